//! Steering a pump: held messages forwarded, dropped or edited, messages injected, and what
//! is left when the connection ends (held messages reported, not lost silently).

use std::time::SystemTime;

use bytes::Bytes;

use super::{Held, Pump, PumpCmd, PumpEnd};
use crate::model::{Direction, Opcode, Origin};
use crate::proxy::ProxyEvent;
use crate::proxy::ProxyFrame;
use crate::proxy::frame;

impl Pump {
    pub(super) async fn command(&mut self, cmd: PumpCmd) {
        match cmd {
            PumpCmd::Forward(seq) => {
                if let Some(h) = self.take_held(seq) {
                    self.release(h, None);
                }
            }
            PumpCmd::ForwardAll => {
                for h in std::mem::take(&mut self.held) {
                    self.release(h, None);
                }
            }
            PumpCmd::Drop(seq) => {
                if let Some(mut h) = self.take_held(seq) {
                    h.record.origin = Origin::Dropped;
                    self.batch.push(ProxyFrame {
                        record: h.record,
                        fragments: h.fragments,
                    });
                }
            }
            PumpCmd::Edit(seq, payload) => {
                let Some(h) = self.held.iter().find(|h| h.record.seq == seq) else {
                    return;
                };
                if h.record.opcode == Opcode::Text && std::str::from_utf8(&payload).is_err() {
                    self.notice(format!(
                        "message {seq} was not changed: an edited text message must be UTF-8"
                    ))
                    .await;
                    return;
                }
                // The text as shown, with *** for a secret, left as it was: what the peer
                // sent goes on (the proxy never sends the mask in place of a password).
                let unchanged = h.record.redacted && h.record.payload == payload;
                if let Some(h) = self.take_held(seq) {
                    self.release(h, (!unchanged).then_some(payload));
                }
            }
            PumpCmd::Inject(opcode, payload) => self.inject(opcode, payload).await,
            PumpCmd::Close(code, reason) => self.write_close(code, &reason).await,
        }
        self.release_waiting();
        self.write_out().await;
        self.flush_events().await;
    }

    /// Send the messages waiting behind held ones that no longer have a held one ahead.
    fn release_waiting(&mut self) {
        while let Some(w) = self.waiting.front() {
            if self.held.iter().any(|h| h.record.seq < w.record.seq) {
                break;
            }
            let Some(mut w) = self.waiting.pop_front() else {
                break;
            };
            w.record.origin = self.send_data(w.bytes, Origin::Wire);
            self.batch.push(ProxyFrame {
                record: w.record,
                fragments: w.fragments,
            });
        }
    }

    fn take_held(&mut self, seq: u64) -> Option<Held> {
        let i = self.held.iter().position(|h| h.record.seq == seq)?;
        Some(self.held.remove(i))
    }

    /// Pass a held message on, as sent or with a new payload.
    fn release(&mut self, h: Held, edited: Option<Bytes>) {
        let fragments = h.fragments;
        let mut rec = h.record;
        let (bytes, origin_if_sent, fragments) = match (edited, h.plain) {
            (None, None) => (h.raw, Origin::Wire, fragments),
            (None, Some(plain)) => (
                self.encode_data(rec.opcode, &plain).0,
                Origin::Wire,
                fragments,
            ),
            (Some(p), _) => {
                let (out, wire_len) = self.encode_data(rec.opcode, &p);
                rec.len = p.len();
                rec.wire_len = wire_len;
                rec.payload = p;
                rec.redacted = false;
                // Sent as one frame.
                rec.fragments = None;
                if rec.opcode == Opcode::Text {
                    self.c.redact(&mut rec);
                }
                (out, Origin::Modified, 1)
            }
        };
        rec.origin = self.send_data(bytes, origin_if_sent);
        self.batch.push(ProxyFrame {
            record: rec,
            fragments,
        });
    }

    /// Send a whole data message now, or after the message being passed on ends.
    fn send_data(&mut self, bytes: Vec<u8>, origin: Origin) -> Origin {
        if self.sent_close || self.dst_dead {
            return Origin::Dropped;
        }
        if self.mid_message {
            self.pending.push_back(bytes);
        } else {
            self.out.extend_from_slice(&bytes);
        }
        origin
    }

    async fn inject(&mut self, opcode: Opcode, payload: Bytes) {
        if opcode == Opcode::Text && std::str::from_utf8(&payload).is_err() {
            self.notice("nothing was sent: a text message must be UTF-8".into())
                .await;
            return;
        }
        if opcode == Opcode::Close {
            let (code, reason) = frame::parse_close(&payload).unwrap_or((1000, String::new()));
            self.write_close(code, &reason).await;
            return;
        }
        if matches!(opcode, Opcode::Ping | Opcode::Pong) && payload.len() > 125 {
            self.notice("nothing was sent: a ping or pong carries at most 125 bytes".into())
                .await;
            return;
        }
        let mut wire_len = None;
        let origin = if matches!(opcode, Opcode::Ping | Opcode::Pong) {
            // Control frames may go between the fragments of a message.
            if self.sent_close || self.dst_dead {
                Origin::Dropped
            } else {
                frame::encode(&mut self.out, opcode.number(), &payload, self.masked);
                Origin::Injected
            }
        } else {
            let (bytes, n) = self.encode_data(opcode, &payload);
            wire_len = n;
            self.send_data(bytes, Origin::Injected)
        };
        if origin == Origin::Dropped {
            self.notice(format!(
                "the injected {} was not sent: the {} side is closed",
                opcode.name(),
                match self.c.dir {
                    Direction::ClientToServer => "server",
                    Direction::ServerToClient => "client",
                }
            ))
            .await;
        }
        let mut rec = self.record(opcode, payload, SystemTime::now(), origin);
        rec.wire_len = wire_len;
        self.batch.push(ProxyFrame {
            record: rec,
            fragments: 1,
        });
    }

    async fn notice(&mut self, message: String) {
        let _ = self
            .c
            .shared
            .events
            .send(ProxyEvent::Notice {
                conn: self.c.conn,
                message,
            })
            .await;
    }

    /// Held messages still here when the connection ends are reported as dropped.
    pub(super) async fn end(mut self) -> PumpEnd {
        let held = self.held.len();
        let behind = self.waiting.len();
        let lost = held + behind;
        for h in std::mem::take(&mut self.held) {
            let mut rec = h.record;
            rec.origin = Origin::Dropped;
            self.batch.push(ProxyFrame {
                record: rec,
                fragments: h.fragments,
            });
        }
        for w in std::mem::take(&mut self.waiting) {
            let mut rec = w.record;
            rec.origin = Origin::Dropped;
            self.batch.push(ProxyFrame {
                record: rec,
                fragments: w.fragments,
            });
        }
        self.flush_events().await;
        if lost > 0 {
            let what = match behind {
                0 => crate::fmt::count(held as u64, "held message"),
                n => format!(
                    "{} and {} waiting behind {}",
                    crate::fmt::count(held as u64, "held message"),
                    crate::fmt::count(n as u64, "message"),
                    if held == 1 { "it" } else { "them" }
                ),
            };
            let (were, they) = match lost {
                1 => ("was", "it was"),
                _ => ("were", "they were"),
            };
            self.notice(format!(
                "{what} {were} not delivered: the connection closed while {they} held"
            ))
            .await;
        }
        PumpEnd {
            src_close: self.src_close,
            lost,
        }
    }
}
