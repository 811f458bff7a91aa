//! Draw cost of one frame at 200 × 50 (issue 4, benchmark 2): the whole screen (`ui::draw`)
//! into a `TestBackend`, with 10^3, 10^5 and 10^6 messages in the session: mixed lengths,
//! wrapping lines, multi-line replies, JSON, CJK and emoji. Goal: flat across sizes, under 1 ms.
//!
//! Cases per size, for the chat view (`chat_*`) and the monitor view (`monitor_*`):
//! - `bottom`: following the newest message, nothing changed since the last frame.
//! - `middle`: scrolled (chat) or selection moved (monitor) to the middle of the history.
//! - `middle_scroll`: in the middle, one page up or down before each frame.
//! - `bottom_append`: one new message arrives before each frame (a live flood).
//!
//! `decoded_200x50` measures the monitor's decoders: a MessagePack tree opened and paged, and
//! the table naming MQTT packets.
//!
//! `cargo bench --bench draw` (add `-- --quick` for a shorter run). Set
//! `WSDECK_DRAW_BENCH_DUMP=1` to print each measured screen once.

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsdeck::app::{App, AppInit, Event, View};
use wsdeck::model::{ConnState, Direction, FrameRecord, NetEvent, Opcode};
use wsdeck::spec::{AuthMethod, ConnectSpec};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

/// Small deterministic generator (xorshift64*), so every run draws the same history.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const WORDS: &[&str] = &[
    "server",
    "push",
    "status",
    "ok",
    "latency",
    "frame",
    "client",
    "login",
    "message",
    "queue",
    "ticket",
    "order",
    "update",
    "price",
    "delta",
    "snapshot",
    "heartbeat",
    "subscribe",
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "for",
    "with",
    "on",
    "at",
    "by",
];
const CJK: &[&str] = &[
    "服务器",
    "消息",
    "连接",
    "已登录",
    "你好",
    "世界",
    "数据",
    "更新",
    "订单",
    "价格",
    "こんにちは",
    "メッセージ",
    "接続",
    "サーバー",
    "안녕하세요",
    "메시지",
    "연결",
];
const EMOJI: &[&str] = &[
    "🚀",
    "✅",
    "🔥",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🇯🇵",
    "🏳️‍🌈",
    "😀",
    "🎉",
    "⚠️",
    "❤️",
    "🧪",
];

/// `min` + up to `spread` - 1 picks from `pool`, joined by `sep`.
fn words(rng: &mut Rng, min: usize, spread: usize, pool: &[&str], sep: &str) -> String {
    let n = min + rng.below(spread.max(1));
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(rng.pick(pool));
    }
    s
}

/// One message text of a mixed population.
fn message(rng: &mut Rng, i: usize) -> String {
    match rng.below(100) {
        // short chat line
        0..40 => format!("#{i} {}", words(rng, 3, 10, WORDS, " ")),
        // wraps over 2-3 rows
        40..55 => words(rng, 25, 40, WORDS, " "),
        // long: 1-3 KB, 10-20 rows
        55..60 => words(rng, 150, 300, WORDS, " "),
        // multi-line reply like the seed's
        60..70 => format!(
            "your submit context: {}\r\nnow, {}\r\n{}",
            words(rng, 4, 1, WORDS, " "),
            words(rng, 6, 1, WORDS, " "),
            words(rng, 3, 1, WORDS, " ")
        ),
        // JSON, as many APIs push (the monitor's detail pane pretty-prints it)
        70..75 => format!(
            "{{\"type\":\"{}\",\"seq\":{i},\"data\":{{\"text\":\"{}\",\"n\":[1,2,3]}}}}",
            rng.pick(WORDS),
            words(rng, 3, 8, WORDS, " ")
        ),
        // CJK (double-width cells), sometimes wrapping
        75..85 => words(rng, 5, 60, CJK, ""),
        // emoji mixed with text (ZWJ sequences, flags, modifiers)
        _ => {
            let mut s = String::new();
            let n = 3 + rng.below(20);
            for _ in 0..n {
                s.push_str(rng.pick(WORDS));
                s.push(' ');
                s.push_str(rng.pick(EMOJI));
                s.push(' ');
            }
            s
        }
    }
}

fn frame(seq: u64, text: String, dir: Direction) -> Event {
    let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seq / 100);
    Event::Net(NetEvent::Frame(FrameRecord {
        conn: 1,
        origin: Default::default(),
        seq,
        at,
        dir,
        opcode: Opcode::Text,
        len: text.len(),
        payload: Bytes::from(text),
        close: None,
        redacted: false,
        wire_len: None,
        fragments: None,
    }))
}

/// A logged-in app with `n` messages (about 5% sent, the rest received).
fn app_with(n: usize) -> (App, Rng) {
    let mut spec = ConnectSpec::new("ws://127.0.0.1:5678");
    spec.auth = AuthMethod::None;
    let mut init = AppInit::new(spec);
    init.connect_now = true;
    init.banner = Some("draw benchmark".into());
    let (mut app, _connect) = App::new(init);
    app.set_utc_offset(0);
    for s in [
        ConnState::Connecting,
        ConnState::Handshaking,
        ConnState::LoggedIn,
    ] {
        app.update(Event::Net(NetEvent::State(s)));
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..n {
        let dir = if rng.below(20) == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let text = message(&mut rng, i);
        app.update(frame(i as u64 + 1, text, dir));
    }
    (app, rng)
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

thread_local! {
    /// The view layer's cache, kept between draws as the runtime keeps one per session.
    static VIEW_CACHE: std::cell::RefCell<wsdeck::ui::ViewCache> = Default::default();
}

fn draw(term: &mut Terminal<TestBackend>, app: &App) {
    VIEW_CACHE.with_borrow_mut(|cache| {
        term.draw(|f| {
            let area = f.area();
            wsdeck::ui::draw_in(f, area, app, std::time::SystemTime::now(), cache);
        })
        .expect("TestBackend cannot fail");
    });
}

/// Draw and hand the feedback (page sizes) back, as the runtime does.
fn draw_fed(term: &mut Terminal<TestBackend>, app: &mut App) {
    let mut fb = None;
    VIEW_CACHE.with_borrow_mut(|cache| {
        term.draw(|f| {
            let area = f.area();
            fb = Some(wsdeck::ui::draw_in(
                f,
                area,
                app,
                std::time::SystemTime::now(),
                cache,
            ));
        })
        .expect("TestBackend cannot fail");
    });
    if let Some(fb) = fb {
        app.update(Event::Drawn(fb));
    }
}

/// Page up from the bottom until the top visible entry is at or above the middle.
fn chat_to_middle(app: &mut App, term: &mut Terminal<TestBackend>) {
    let n = app.history().len();
    while app.history().anchor().is_none_or(|a| a.entry > n / 2) {
        app.update(key(KeyCode::PageUp));
    }
    draw_fed(term, app);
    assert!(
        app.history().anchor().is_some(),
        "the chat view must stay scrolled"
    );
}

/// Jump to the first frame, then page down until the selection is past the middle.
fn monitor_to_middle(app: &mut App, term: &mut Terminal<TestBackend>) {
    let rows = app.monitor().row_count();
    app.update(key(KeyCode::Home));
    draw_fed(term, app);
    while app.monitor().selected_row().is_some_and(|r| r < rows / 2) {
        app.update(key(KeyCode::PageDown));
    }
    draw_fed(term, app);
    assert!(
        !app.monitor().following(),
        "the monitor must stay off the bottom"
    );
}

/// With `WSDECK_DRAW_BENCH_DUMP` set, print the screen a case measures (to check the bench).
fn dump(term: &mut Terminal<TestBackend>, app: &App, case: &str) {
    if std::env::var_os("WSDECK_DRAW_BENCH_DUMP").is_some() {
        draw(term, app);
        eprintln!("--- {case}\n{}", term.backend());
    }
}

/// One frame after each PageUp/PageDown, alternating, so the view stays where it is.
fn bench_paging(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    app: &mut App,
    term: &mut Terminal<TestBackend>,
) {
    let mut up = true;
    group.bench_function(id, |b| {
        b.iter(|| {
            app.update(key(if up {
                KeyCode::PageUp
            } else {
                KeyCode::PageDown
            }));
            up = !up;
            draw(term, black_box(app));
        })
    });
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_200x50");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for n in SIZES {
        let (mut app, mut rng) = app_with(n);
        let mut term = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("TestBackend");
        // The first draw records the views' sizes (used by paging).
        draw(&mut term, &app);

        // ---- chat view
        assert_eq!(app.view(), View::Chat);
        dump(&mut term, &app, &format!("chat_bottom/{n}"));
        group.bench_function(BenchmarkId::new("chat_bottom", n), |b| {
            b.iter(|| draw(&mut term, black_box(&app)))
        });
        chat_to_middle(&mut app, &mut term);
        dump(&mut term, &app, &format!("chat_middle/{n}"));
        group.bench_function(BenchmarkId::new("chat_middle", n), |b| {
            b.iter(|| draw(&mut term, black_box(&app)))
        });
        bench_paging(
            &mut group,
            BenchmarkId::new("chat_middle_scroll", n),
            &mut app,
            &mut term,
        );
        let anchor = app.history().anchor().map(|a| a.entry).unwrap_or(n);
        assert!(
            anchor > n / 4 && anchor < n * 3 / 4,
            "chat still in the middle after the scroll bench ({anchor} of {n})"
        );

        // ---- monitor view
        app.update(key(KeyCode::F(3)));
        assert_eq!(app.view(), View::Monitor);
        draw(&mut term, &app);
        assert!(app.monitor().following());
        dump(&mut term, &app, &format!("monitor_bottom/{n}"));
        group.bench_function(BenchmarkId::new("monitor_bottom", n), |b| {
            b.iter(|| draw(&mut term, black_box(&app)))
        });
        monitor_to_middle(&mut app, &mut term);
        dump(&mut term, &app, &format!("monitor_middle/{n}"));
        group.bench_function(BenchmarkId::new("monitor_middle", n), |b| {
            b.iter(|| draw(&mut term, black_box(&app)))
        });
        bench_paging(
            &mut group,
            BenchmarkId::new("monitor_middle_scroll", n),
            &mut app,
            &mut term,
        );
        let rows = app.monitor().row_count();
        let row = app.monitor().selected_row().unwrap_or(rows);
        assert!(
            row > rows / 4 && row < rows * 3 / 4,
            "monitor still in the middle after the scroll bench ({row} of {rows})"
        );

        // ---- a new message before each frame (last: this grows the history)
        let mut seq = n as u64 + 10;
        app.update(key(KeyCode::End));
        assert!(app.monitor().following());
        group.bench_function(BenchmarkId::new("monitor_bottom_append", n), |b| {
            b.iter(|| {
                seq += 1;
                let text = message(&mut rng, seq as usize);
                app.update(frame(seq, text, Direction::ServerToClient));
                draw(&mut term, black_box(&app));
            })
        });
        app.update(key(KeyCode::F(2)));
        app.update(key(KeyCode::End));
        assert_eq!(app.view(), View::Chat);
        assert!(app.history().following());
        group.bench_function(BenchmarkId::new("chat_bottom_append", n), |b| {
            b.iter(|| {
                seq += 1;
                let text = message(&mut rng, seq as usize);
                app.update(frame(seq, text, Direction::ServerToClient));
                draw(&mut term, black_box(&app));
            })
        });
    }
    group.finish();
}

/// A JSON reply of about `bytes` bytes: an array of small records.
fn big_json(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 100);
    s.push_str("{\"items\":[");
    let mut i = 0;
    while s.len() < bytes {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"id\":{i},\"name\":\"item {i}\",\"tags\":[\"a\",\"b\"],\"ok\":true}}"
        ));
        i += 1;
    }
    s.push_str("],\"last\":\"the end\"}");
    s
}

/// The detail pane over one JSON message of 1 KB, 1 MB and 50 MB (issue 11, item 4):
/// `open` indexes it (a fresh view cache each time, as when the frame is selected), `scroll`
/// pages the opened message. The 1 KB figures are the reference for the ratios.
fn detail(c: &mut Criterion) {
    let mut group = c.benchmark_group("detail_200x50");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3));
    for (label, bytes) in [("1KB", 1_000), ("1MB", 1_000_000), ("50MB", 50_000_000)] {
        let mut app = App::new(AppInit::new(ConnectSpec::new("ws://127.0.0.1:1/"))).0;
        app.update(Event::Net(NetEvent::State(ConnState::LoggedIn)));
        app.update(frame(1, big_json(bytes), Direction::ServerToClient));
        app.update(key(KeyCode::F(3)));
        app.update(key(KeyCode::End));
        let mut term = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("TestBackend");
        group.bench_function(BenchmarkId::new("open", label), |b| {
            b.iter(|| {
                VIEW_CACHE.with_borrow_mut(|c| *c = Default::default());
                draw_fed(&mut term, black_box(&mut app));
            })
        });
        draw_fed(&mut term, &mut app);
        dump(&mut term, &app, &format!("detail_open/{label}"));
        let mut down = true;
        let mut n = 0;
        group.bench_function(BenchmarkId::new("scroll", label), |b| {
            b.iter(|| {
                n += 1;
                if n % 50 == 0 {
                    down = !down;
                }
                let code = if down {
                    KeyCode::PageDown
                } else {
                    KeyCode::PageUp
                };
                app.update(Event::Key(KeyEvent::new(code, KeyModifiers::SHIFT)));
                draw_fed(&mut term, black_box(&mut app));
            })
        });
    }
    group.finish();
}

/// About `bytes` bytes of MessagePack: an array of `{"id": i, "name": "item i", "ok": true}`.
fn big_msgpack(bytes: usize) -> Vec<u8> {
    let mut items = Vec::new();
    let mut n = 0u32;
    while items.len() < bytes {
        let name = format!("item {n}");
        items.extend_from_slice(&[0x83, 0xa2, b'i', b'd', 0xce]);
        items.extend_from_slice(&n.to_be_bytes());
        items.extend_from_slice(&[0xa4, b'n', b'a', b'm', b'e', 0xa0 | name.len() as u8]);
        items.extend_from_slice(name.as_bytes());
        items.extend_from_slice(&[0xa2, b'o', b'k', 0xc3]);
        n += 1;
    }
    let mut b = vec![0xdd];
    b.extend_from_slice(&n.to_be_bytes());
    b.extend(items);
    b
}

fn binary(seq: u64, payload: Vec<u8>, dir: Direction) -> Event {
    let Event::Net(NetEvent::Frame(mut f)) = frame(seq, String::new(), dir) else {
        unreachable!("frame() makes a frame event")
    };
    f.opcode = Opcode::Binary;
    f.len = payload.len();
    f.payload = Bytes::from(payload);
    Event::Net(NetEvent::Frame(f))
}

/// The decoders (issue 12, item 6): `tree_open` decodes one MessagePack message of 1 KB and
/// 3.5 MB into its tree (a fresh view cache each time, as when `v` is pressed on it),
/// `tree_scroll` pages the opened tree; `mqtt_table` draws the monitor following 100,000
/// MQTT PUBLISH messages on an `mqtt` connection, every visible row named by its packet.
fn decoded(c: &mut Criterion) {
    let mut group = c.benchmark_group("decoded_200x50");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(3));
    for (label, bytes) in [("1KB", 1_000), ("3.5MB", 3_500_000)] {
        let mut app = App::new(AppInit::new(ConnectSpec::new("ws://127.0.0.1:1/"))).0;
        app.update(Event::Net(NetEvent::State(ConnState::LoggedIn)));
        app.update(binary(1, big_msgpack(bytes), Direction::ServerToClient));
        app.update(key(KeyCode::F(3)));
        app.update(key(KeyCode::End));
        app.update(key(KeyCode::Char('v')));
        let mut term = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("TestBackend");
        group.bench_function(BenchmarkId::new("tree_open", label), |b| {
            b.iter(|| {
                VIEW_CACHE.with_borrow_mut(|c| *c = Default::default());
                draw_fed(&mut term, black_box(&mut app));
            })
        });
        draw_fed(&mut term, &mut app);
        dump(&mut term, &app, &format!("tree_open/{label}"));
        let mut down = true;
        let mut n = 0;
        group.bench_function(BenchmarkId::new("tree_scroll", label), |b| {
            b.iter(|| {
                n += 1;
                if n % 50 == 0 {
                    down = !down;
                }
                let code = if down {
                    KeyCode::PageDown
                } else {
                    KeyCode::PageUp
                };
                app.update(Event::Key(KeyEvent::new(code, KeyModifiers::SHIFT)));
                draw_fed(&mut term, black_box(&mut app));
            })
        });
    }
    let mut app = App::new(AppInit::new(ConnectSpec::new("ws://127.0.0.1:1/"))).0;
    let mut hs = wsdeck::model::HandshakeInfo {
        conn: 1,
        url: "ws://127.0.0.1:1/".into(),
        ..Default::default()
    };
    hs.response
        .headers
        .push(("Sec-WebSocket-Protocol".into(), "mqtt".into()));
    app.update(Event::Net(NetEvent::Handshake(Box::new(hs))));
    app.update(Event::Net(NetEvent::State(ConnState::LoggedIn)));
    for i in 0..100_000u64 {
        let topic = format!("sensors/room{}/t", i % 50);
        let mut p = vec![0x30, (2 + topic.len() + 4) as u8, 0, topic.len() as u8];
        p.extend_from_slice(topic.as_bytes());
        p.extend_from_slice(b"21.5");
        app.update(binary(i + 1, p, Direction::ServerToClient));
    }
    app.update(key(KeyCode::F(3)));
    let mut term = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("TestBackend");
    draw_fed(&mut term, &mut app);
    dump(&mut term, &app, "mqtt_table");
    group.bench_function(BenchmarkId::new("mqtt_table", "100k"), |b| {
        b.iter(|| draw_fed(&mut term, black_box(&mut app)))
    });
    group.finish();
}

criterion_group!(benches, frames, detail, decoded);
criterion_main!(benches);
