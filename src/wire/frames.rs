//! Following frame headers in a stream that passes through untouched, to tell how many frames
//! (and of what sizes) each data message came in — what tungstenite reassembles away.

use crate::model::Fragments;

/// Where a byte stream of frames is (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct FrameCounter {
    /// Header bytes of a frame whose header is split across reads.
    head: [u8; 14],
    head_len: usize,
    /// Payload bytes of the current frame still to pass.
    skip: u64,
    /// Data frames of the current message so far, and the first one's size: a message of
    /// one frame (nearly all of them) allocates nothing.
    frames: u64,
    first: u64,
    /// The data message's frames once there are two or more.
    msg: Fragments,
}

/// Bytes of the frame header that starts with `b` (at least 2 bytes of it).
fn header_len(b: &[u8]) -> usize {
    let ext = match b[1] & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if b[1] & 0x80 != 0 { 4 } else { 0 };
    2 + ext + mask
}

impl FrameCounter {
    /// Look at the next `bytes` of the stream; `done` gets the fragments of each data message
    /// completed (`None`: it was one frame).
    pub fn feed(
        &mut self,
        mut bytes: &[u8],
        mut done: impl FnMut(Option<std::sync::Arc<Fragments>>),
    ) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len() as u64) as usize;
                self.skip -= n as u64;
                bytes = &bytes[n..];
                continue;
            }
            // A whole header in this read (nearly always): read it in place.
            if self.head_len == 0 && bytes.len() >= 2 {
                let want = header_len(bytes);
                if bytes.len() >= want {
                    self.header(&bytes[..want], &mut done);
                    bytes = &bytes[want..];
                    continue;
                }
            }
            let want = if self.head_len < 2 {
                2
            } else {
                header_len(&self.head[..self.head_len])
            };
            let n = (want - self.head_len).min(bytes.len());
            self.head[self.head_len..self.head_len + n].copy_from_slice(&bytes[..n]);
            self.head_len += n;
            bytes = &bytes[n..];
            if self.head_len < want || (want == 2 && header_len(&self.head[..2]) > 2) {
                continue;
            }
            let head = self.head;
            let len = self.head_len;
            self.head_len = 0;
            self.header(&head[..len], &mut done);
        }
    }

    /// A frame's whole header `h`: its payload is skipped, a data frame counted.
    fn header(&mut self, h: &[u8], done: &mut impl FnMut(Option<std::sync::Arc<Fragments>>)) {
        let payload = match h[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            127 => u64::from_be_bytes(h[2..10].try_into().unwrap_or_default()),
            n => u64::from(n),
        };
        let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0f);
        self.skip = payload;
        if opcode < 8 {
            match self.frames {
                0 => self.first = payload,
                1 => {
                    self.msg.add(self.first);
                    self.msg.add(payload);
                }
                _ => self.msg.add(payload),
            }
            self.frames += 1;
            if fin {
                let many = self.frames > 1;
                self.frames = 0;
                done(if many { self.msg.take() } else { None });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![(u8::from(fin) << 7) | opcode];
        if payload.len() < 126 {
            v.push(payload.len() as u8);
        } else {
            v.push(126);
            v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn fragments_are_counted_across_any_split_and_control_frames_between() {
        let mut wire = frame(true, 1, b"one");
        wire.extend(frame(false, 1, &[b'a'; 300]));
        wire.extend(frame(true, 9, b"ping"));
        wire.extend(frame(false, 0, b"bb"));
        wire.extend(frame(true, 0, b"c"));
        wire.extend(frame(true, 2, b"\x00"));
        for chunk in [1, 2, 3, 7, wire.len()] {
            let mut c = FrameCounter::default();
            let mut got = Vec::new();
            for piece in wire.chunks(chunk) {
                c.feed(piece, |f| got.push(f.map(|f| (f.count, f.sizes.clone()))));
            }
            assert_eq!(
                got,
                [None, Some((3, vec![300, 2, 1])), None],
                "split every {chunk} bytes"
            );
        }
    }
}
