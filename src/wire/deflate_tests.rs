use super::*;

const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

fn server_inflater(params: &Params) -> Inflater {
    // A client inflates what the server sends.
    Inflater::new(params, Role::Client)
}

#[test]
fn rfc7692_7_2_3_1_one_block_compresses_and_inflates_as_in_the_rfc() {
    let mut d = Deflater::new(&Params::default(), Role::Server);
    assert_eq!(d.compress(b"Hello").unwrap(), HELLO);
    let mut i = server_inflater(&Params::default());
    assert_eq!(i.message(&HELLO, 1024).unwrap(), b"Hello");
}

#[test]
fn rfc7692_7_2_3_1_fragmented_message_inflates_across_frames() {
    let mut i = server_inflater(&Params::default());
    let mut out = Vec::new();
    assert_eq!(i.inflate(&HELLO[..3], &mut out, 100).unwrap(), 3);
    assert_eq!(i.inflate(&HELLO[3..], &mut out, 100).unwrap(), 4);
    assert!(i.finish(&mut out, 100).unwrap());
    assert_eq!(out, b"Hello");
}

#[test]
fn rfc7692_7_2_3_2_context_takeover_shares_the_window() {
    let mut d = Deflater::new(&Params::default(), Role::Server);
    assert_eq!(d.compress(b"Hello").unwrap(), HELLO);
    assert_eq!(
        d.compress(b"Hello").unwrap(),
        [0xf2, 0x00, 0x11, 0x00, 0x00]
    );
    let mut i = server_inflater(&Params::default());
    assert_eq!(i.message(&HELLO, 100).unwrap(), b"Hello");
    assert_eq!(
        i.message(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100).unwrap(),
        b"Hello"
    );
}

#[test]
fn no_context_takeover_compresses_every_message_afresh() {
    let params = Params {
        server_no_context_takeover: true,
        ..Params::default()
    };
    let mut d = Deflater::new(&params, Role::Server);
    assert_eq!(d.compress(b"Hello").unwrap(), HELLO);
    assert_eq!(d.compress(b"Hello").unwrap(), HELLO);
    // The client's own compressor is not affected by the server's flag.
    let mut c = Deflater::new(&params, Role::Client);
    c.compress(b"Hello").unwrap();
    assert_ne!(c.compress(b"Hello").unwrap(), HELLO);
}

#[test]
fn rfc7692_7_2_3_3_uncompressed_block_inflates() {
    let stored = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    let mut i = server_inflater(&Params::default());
    assert_eq!(i.message(&stored, 100).unwrap(), b"Hello");
}

#[test]
fn rfc7692_7_2_3_4_bfinal_block_inflates_and_the_next_message_starts_afresh() {
    let fin = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    let mut i = server_inflater(&Params::default());
    assert_eq!(i.message(&fin, 100).unwrap(), b"Hello");
    assert_eq!(i.message(&HELLO, 100).unwrap(), b"Hello");
}

#[test]
fn rfc7692_7_2_3_5_two_blocks_in_one_message() {
    let two = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    let mut i = server_inflater(&Params::default());
    assert_eq!(i.message(&two, 100).unwrap(), b"Hello");
}

#[test]
fn rfc7692_7_2_3_6_empty_block_is_an_empty_message() {
    let mut i = server_inflater(&Params::default());
    assert_eq!(i.message(&[0x00], 100).unwrap(), b"");
    assert_eq!(i.message(&HELLO, 100).unwrap(), b"Hello");
}

#[test]
fn a_bomb_stops_at_the_limit_without_inflating_the_rest() {
    let mut d = Deflater::new(&Params::default(), Role::Server);
    let bomb = d.compress(&vec![0u8; 8 << 20]).unwrap();
    assert!(bomb.len() < 40_000, "{}", bomb.len());
    let mut i = server_inflater(&Params::default());
    assert_eq!(
        i.message(&bomb, 1 << 20),
        Err(InflateError::TooBig { limit: 1 << 20 })
    );
    // The streaming call never writes past the room it is given.
    let mut i = server_inflater(&Params::default());
    let mut out = Vec::new();
    let used = i.inflate(&bomb, &mut out, 1000).unwrap();
    assert_eq!(out.len(), 1000);
    assert!(used < bomb.len());
    assert!(out.capacity() < 64 * 1024 + 1000, "{}", out.capacity());
}

#[test]
fn garbage_is_reported_as_corrupt() {
    let mut i = server_inflater(&Params::default());
    assert_eq!(
        i.message(&[0xff, 0xff, 0xff, 0xff], 100),
        Err(InflateError::Corrupt)
    );
}

#[test]
fn every_window_size_round_trips_with_and_without_context_takeover() {
    let text: Vec<u8> = (0..50_000u32)
        .flat_map(|n| format!("{{\"n\":{n},\"v\":\"{}\"}}", n % 97).into_bytes())
        .collect();
    for bits in 9..=15u8 {
        for reset in [false, true] {
            let params = Params {
                client_max_window_bits: Some(bits),
                client_no_context_takeover: reset,
                ..Params::default()
            };
            let mut d = Deflater::new(&params, Role::Client);
            let mut i = Inflater::new(&params, Role::Server);
            for part in text.chunks(70_000) {
                let c = d.compress(part).unwrap();
                assert!(c.len() < part.len() / 3, "bits {bits}");
                assert_eq!(i.message(&c, 1 << 20).unwrap(), part, "bits {bits}");
            }
        }
    }
}

#[test]
fn an_eight_bit_window_sends_uncompressed() {
    let params = Params {
        client_max_window_bits: Some(8),
        ..Params::default()
    };
    let mut d = Deflater::new(&params, Role::Client);
    assert_eq!(d.compress(b"Hello"), None);
    let (m, wire) = d.message(Message::text("Hello"));
    assert_eq!(m, Message::text("Hello"));
    assert_eq!(wire, None);
}

#[test]
fn a_message_becomes_one_rsv1_frame() {
    let mut d = Deflater::new(&Params::default(), Role::Server);
    let (m, wire) = d.message(Message::text("Hello"));
    assert_eq!(wire, Some(7));
    let Message::Frame(f) = m else {
        panic!("not a frame: {m:?}")
    };
    assert!(f.header().rsv1);
    assert!(f.header().is_final);
    assert_eq!(f.header().opcode, OpCode::Data(Data::Text));
    assert_eq!(f.payload(), HELLO);
    let (ping, wire) = d.message(Message::Ping("x".into()));
    assert_eq!(ping, Message::Ping("x".into()));
    assert_eq!(wire, None);
}

#[test]
fn the_default_offer_is_what_browsers_send() {
    assert_eq!(
        Offer::default().header_value(),
        "permessage-deflate; client_max_window_bits"
    );
    let all = Offer {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: Some(10),
        client_max_window_bits: Some(Some(12)),
    };
    assert_eq!(
        all.header_value(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=12"
    );
}

#[test]
fn the_client_accepts_valid_answers() {
    let offer = Offer::default();
    assert_eq!(Offer::accept(Some(&offer), &[]), Ok(None));
    assert_eq!(
        Offer::accept(Some(&offer), &["permessage-deflate"]),
        Ok(Some(Params::default()))
    );
    let got = Offer::accept(
        Some(&offer),
        &["Permessage-Deflate; client_max_window_bits=\"10\"; server_no_context_takeover; server_max_window_bits=12"],
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        got,
        Params {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: Some(12),
            client_max_window_bits: Some(10),
        }
    );
    assert_eq!(
        got.describe(),
        "permessage-deflate (client window 2^10, server window 2^12, server no context takeover)"
    );
}

#[test]
fn the_client_refuses_answers_it_did_not_ask_for() {
    let offer = Offer::default();
    let refused =
        |offer: Option<&Offer>, v: &str| Offer::accept(offer, &[v]).expect_err(v).to_string();
    let e = refused(None, "permessage-deflate");
    assert!(e.contains("did not ask for"), "{e}");
    assert!(e.contains("RFC 6455"), "{e}");
    let e = refused(Some(&offer), "x-webkit-deflate-frame");
    assert!(e.contains("\"x-webkit-deflate-frame\""), "{e}");
    for bad in [
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; mystery",
        "permessage-deflate, permessage-deflate",
        "permessage-deflate; =",
    ] {
        let e = refused(Some(&offer), bad);
        assert!(e.contains("dropped"), "{bad}: {e}");
    }
    let no_client_bits = Offer {
        client_max_window_bits: None,
        ..Offer::default()
    };
    let e = refused(
        Some(&no_client_bits),
        "permessage-deflate; client_max_window_bits=10",
    );
    assert!(e.contains("did not offer"), "{e}");
    let small = Offer {
        server_max_window_bits: Some(10),
        ..Offer::default()
    };
    refused(
        Some(&small),
        "permessage-deflate; server_max_window_bits=12",
    );
    assert_eq!(
        Offer::accept(Some(&small), &["permessage-deflate"])
            .unwrap()
            .unwrap()
            .server_max_window_bits,
        Some(10)
    );
}

#[test]
fn a_server_takes_the_first_valid_offer() {
    let policy = ServerPolicy::default();
    assert_eq!(
        negotiate(&["permessage-deflate; client_max_window_bits"], &policy),
        Some((Params::default(), "permessage-deflate".to_string()))
    );
    let (p, header) = negotiate(
        &[
            "x-webkit-deflate-frame",
            "permessage-deflate; mystery, permessage-deflate; server_max_window_bits=10; client_no_context_takeover",
        ],
        &policy,
    )
    .unwrap();
    assert_eq!(p.server_max_window_bits, Some(10));
    assert!(p.client_no_context_takeover);
    assert_eq!(
        header,
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"
    );
    assert_eq!(negotiate(&["foo; bar"], &policy), None);
    assert_eq!(negotiate(&[], &policy), None);
    let lean = ServerPolicy::LEAN;
    let (p, header) = negotiate(&["permessage-deflate; client_max_window_bits"], &lean).unwrap();
    assert!(p.server_no_context_takeover && p.client_no_context_takeover);
    assert_eq!(
        header,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    );
    // What the server asked for, the client accepts.
    assert_eq!(
        Offer::accept(Some(&Offer::default()), &[&header]),
        Ok(Some(p))
    );
}
