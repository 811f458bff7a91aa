//! Cost of the redaction policy (issue 15.3): `Masker::frame` on every frame a session
//! reports, with a session's secrets (password, URL password, a bearer token, a cookie),
//! for a frame that holds none of them (the common case) and one that holds the password.
//!
//! `cargo bench --bench mask` (add `-- --quick` for a shorter run).

use std::hint::black_box;
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wsdeck::model::{Direction, FrameRecord, Opcode, Secret};
use wsdeck::record::redact::Masker;
use wsdeck::spec::ConnectSpec;

fn masker() -> Masker {
    let mut spec = ConnectSpec::new("ws://ops:hunter2@127.0.0.1:9/");
    spec.user = "ops".into();
    spec.password = Secret::new("S3cr3t-Pa55word");
    spec.headers = vec![
        ("Authorization".into(), "Bearer t0k3n-abcdef".into()),
        ("Cookie".into(), "sid=c00kie-v4lue; theme=dark".into()),
    ];
    Masker::for_spec(&spec)
}

fn frame(size: usize, secret: bool) -> FrameRecord {
    let mut text: String = "{\"type\":\"tick\",\"n\":12345,\"msg\":\"hello world\"} "
        .chars()
        .cycle()
        .take(size)
        .collect();
    if secret {
        text.replace_range(size / 2..size / 2 + 15, "S3cr3t-Pa55word");
    }
    FrameRecord {
        seq: 1,
        conn: 1,
        at: UNIX_EPOCH,
        dir: Direction::ServerToClient,
        origin: Default::default(),
        opcode: Opcode::Text,
        len: text.len(),
        payload: Bytes::from(text),
        close: None,
        redacted: false,
        wire_len: None,
        fragments: None,
    }
}

fn bench(c: &mut Criterion) {
    let m = masker();
    let mut g = c.benchmark_group("mask");
    for size in [100usize, 1 << 10, 1 << 20] {
        g.throughput(Throughput::Bytes(size as u64));
        for (name, secret) in [("clean", false), ("secret", true)] {
            let f = frame(size, secret);
            g.bench_with_input(BenchmarkId::new(name, size), &f, |b, f| {
                b.iter(|| {
                    let mut f = f.clone();
                    m.frame(&mut f);
                    black_box(f)
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
