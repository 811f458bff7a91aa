//! The byte stream under the WebSocket: TCP, a proxy's tunnel or TLS, with an optional tap that keeps
//! the HTTP upgrade request and response exactly as they crossed the wire.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most bytes of each HTTP head the tap keeps (tungstenite refuses bigger heads anyway).
const MAX_HEAD: usize = 64 * 1024;

/// Most bytes past the response's head the tap keeps: a refusal's body, where servers say why.
const MAX_BODY: usize = crate::wire::deflate_stream::MAX_REFUSAL_BODY;

/// Bytes of the upgrade request written, up to the blank line, and of the response read, up
/// to the blank line and a bounded part of what follows (a refusal's body).
#[derive(Debug, Default)]
pub(crate) struct Capture {
    pub sent: Vec<u8>,
    pub received: Vec<u8>,
}

impl Capture {
    fn record_sent(&mut self, bytes: &[u8]) {
        if !head_complete(&self.sent) {
            let room = MAX_HEAD.saturating_sub(self.sent.len());
            self.sent.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    fn record_received(&mut self, bytes: &[u8]) {
        let end = match find_blank_line(&self.received) {
            Some(head) => head + 4 + MAX_BODY,
            None => MAX_HEAD,
        };
        let room = end.saturating_sub(self.received.len());
        self.received
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// The bytes after the blank line ending an HTTP head (empty if it is not complete).
pub(crate) fn body_bytes(buf: &[u8]) -> &[u8] {
    match find_blank_line(buf) {
        Some(end) => &buf[end + 4..],
        None => &[],
    }
}

/// The bytes up to (not including) the blank line ending an HTTP head, if it is there.
pub(crate) fn head_bytes(buf: &[u8]) -> &[u8] {
    match find_blank_line(buf) {
        Some(end) => &buf[..end],
        None => buf,
    }
}

fn head_complete(buf: &[u8]) -> bool {
    find_blank_line(buf).is_some()
}

fn find_blank_line(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

pub(crate) type SharedCapture = Arc<Mutex<Capture>>;

/// Any byte stream a connection can run over (TCP, a proxy's tunnel, TLS over either).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The one socket type of the crate: our client's link, the demo server's connections and
/// both legs of the proxy (TCP, a tunnel, or TLS over either).
pub(crate) type BoxIo = Box<dyn Io>;

/// TCP, a proxy's tunnel, or TLS over either, tapped while the upgrade is in flight.
pub struct NetStream {
    inner: Box<dyn Io>,
    capture: Option<SharedCapture>,
}

impl NetStream {
    /// Any stream: a proxy's tunnel, TLS over one.
    pub(crate) fn any(io: Box<dyn Io>, capture: SharedCapture) -> Self {
        NetStream {
            inner: io,
            capture: Some(capture),
        }
    }

    /// Stop tapping (after the upgrade): later frames cost nothing extra.
    pub(crate) fn stop_capture(&mut self) {
        self.capture = None;
    }
}

fn with_capture(capture: &Option<SharedCapture>, f: impl FnOnce(&mut Capture)) {
    if let Some(c) = capture {
        // A poisoned lock only means another thread panicked mid-record; keep what is there.
        let mut guard = c.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }
}

impl AsyncRead for NetStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(this.inner.as_mut()).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            with_capture(&this.capture, |c| {
                c.record_received(&buf.filled()[before..])
            });
        }
        res
    }
}

impl AsyncWrite for NetStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(this.inner.as_mut()).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = res {
            with_capture(&this.capture, |c| c.record_sent(&data[..n]));
        }
        res
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().inner.as_mut()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().inner.as_mut()).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_stops_at_the_blank_line_and_head_bytes_cuts_it() {
        let mut c = Capture::default();
        c.record_received(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n");
        c.record_received(b"\r\n\x81\x02hi");
        c.record_received(b"\x81\x02more frames");
        assert_eq!(
            head_bytes(&c.received),
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket"
        );
        assert_eq!(body_bytes(&c.received), b"\x81\x02hi\x81\x02more frames");
        c.record_received(&[b'x'; 2 * MAX_BODY]);
        assert_eq!(body_bytes(&c.received).len(), MAX_BODY);
    }

    #[test]
    fn capture_is_bounded() {
        let mut c = Capture::default();
        for _ in 0..100 {
            c.record_sent(&[b'a'; 4096]);
        }
        assert_eq!(c.sent.len(), MAX_HEAD);
    }
}
