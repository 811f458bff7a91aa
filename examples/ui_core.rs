//! Benchmark: the wsdeck UI core without a terminal. The real runtime loop (`tui::run`) with
//! the real `App` and views, drawing into a 200 × 50 `TestBackend` at its own frame cadence,
//! connected (`--auth none`) to a flood server; the input stream never yields, as when nobody
//! touches the keyboard.
//!
//! The backend is wrapped so that each completed frame (`flush`) is timed and its screen read:
//! the run ends at the first frame whose status bar shows `↓COUNT` received and the session
//! closed, i.e. when every message is in the history and drawn. With `--stamp-log FILE` (the
//! flood server's `--stamp-log`, payloads `#SEQ UNIX_NANOS …`), each message's latency is the
//! time from its send stamp to the end of the first frame showing a sequence number ≥ its own.
//!
//! Prints one line of `key=value` pairs: `ingest_s` (start of the session to that frame),
//! `draws`, `max_gap_ms` (the longest time without a new frame until then), RSS (kB) before connecting and at that frame (`rss_full_kb`, the whole history
//! alive) and the peak so far, and with a stamp log `lat_p50_ms`, `lat_p99_ms`,
//! `lat_max_ms`.
//!
//! ```text
//! cargo run --release --example ui_core -- ws://127.0.0.1:PORT --count 300000
//! ```

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Size};
use tokio::sync::Notify;
use wsdeck::app::{App, AppInit};
use wsdeck::spec::{AuthMethod, ConnectSpec};

#[derive(Debug, Parser)]
#[command(about = "Time the wsdeck UI core (net task → App → draws into a TestBackend)")]
struct Args {
    /// ws:// URL of the flood server (`--auth none`).
    url: String,
    /// Messages the server sends.
    #[arg(long)]
    count: u64,
    /// The flood server's stamp log, for latency (payloads must be stamped).
    #[arg(long, value_name = "FILE")]
    stamp_log: Option<PathBuf>,
    #[arg(long, default_value_t = 200)]
    width: u16,
    #[arg(long, default_value_t = 50)]
    height: u16,
    /// Run on a current-thread runtime instead of the real binary's multi-thread one (an
    /// experiment: the network task and the UI loop then share one thread).
    #[arg(long)]
    current_thread: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

/// One completed frame.
#[derive(Debug, Clone, Copy)]
struct Drawn {
    unix_ns: u128,
    at: Instant,
    /// Highest `#SEQ` on screen (0 if none).
    max_seq: u64,
}

/// RSS (kB) read at the first frame showing everything: the history is complete and alive.
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    rss_kb: u64,
    peak_kb: u64,
}

#[derive(Default)]
struct Record {
    frames: Vec<Drawn>,
    /// The first frame showing everything received and the session closed.
    done: Option<Drawn>,
    memory: Memory,
}

/// A `TestBackend` that times every frame and reads its screen.
struct Recorder {
    inner: TestBackend,
    count: u64,
    record: Arc<Mutex<Record>>,
    done: Arc<Notify>,
}

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn row_text(buf: &Buffer, y: u16) -> String {
    let area = buf.area;
    (area.left()..area.right())
        .map(|x| buf[(x, y)].symbol())
        .collect()
}

/// Highest `#SEQ ` followed by a 19-digit stamp anywhere on screen.
fn max_seq(buf: &Buffer) -> u64 {
    let mut best = 0;
    for y in buf.area.top()..buf.area.bottom() {
        let row = row_text(buf, y);
        let mut rest = row.as_str();
        while let Some(i) = rest.find('#') {
            rest = &rest[i + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let stamp = rest[digits..]
                .strip_prefix(' ')
                .map(|r| r.bytes().take_while(u8::is_ascii_digit).count() >= 18);
            if digits > 0
                && stamp == Some(true)
                && let Ok(n) = rest[..digits].parse::<u64>()
            {
                best = best.max(n);
            }
        }
    }
    best
}

impl Recorder {
    fn finished(&self) -> bool {
        let buf = self.inner.buffer();
        let status = row_text(buf, buf.area.bottom() - 1);
        status.contains(&format!("↓{} ", self.count)) && status.contains("closed")
    }
}

impl Backend for Recorder {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.inner.append_lines(n)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()?;
        let drawn = Drawn {
            unix_ns: unix_ns(),
            at: Instant::now(),
            max_seq: max_seq(self.inner.buffer()),
        };
        let finished = self.finished();
        let mut rec = self.record.lock().unwrap_or_else(|e| e.into_inner());
        rec.frames.push(drawn);
        if finished && rec.done.is_none() {
            rec.done = Some(drawn);
            rec.memory = Memory {
                rss_kb: proc_status_kb("VmRSS:"),
                peak_kb: proc_status_kb("VmHWM:"),
            };
            self.done.notify_one();
        }
        Ok(())
    }
}

fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Send time of message SEQ at index SEQ - 1.
fn read_stamp_log(path: &PathBuf, count: u64) -> anyhow::Result<Vec<u128>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the stamp log {}", path.display()))?;
    let mut out = Vec::with_capacity(count as usize);
    for (i, line) in text.lines().enumerate() {
        let (seq, ns) = line.split_once(' ').context("bad stamp log line")?;
        if seq.parse::<usize>()? != i + 1 {
            bail!("stamp log out of order at line {}", i + 1);
        }
        out.push(ns.parse()?);
    }
    if out.len() as u64 != count {
        bail!("stamp log has {} entries, expected {count}", out.len());
    }
    Ok(out)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Same runtime as the real binary unless asked otherwise.
    let rt = if args.current_thread {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    let rss_before = proc_status_kb("VmRSS:");
    let record = Arc::new(Mutex::new(Record::default()));
    let done = Arc::new(Notify::new());
    let backend = Recorder {
        inner: TestBackend::new(args.width, args.height),
        count: args.count,
        record: record.clone(),
        done: done.clone(),
    };
    let mut terminal = Terminal::new(backend)?;
    let mut spec = ConnectSpec::new(args.url.clone());
    spec.auth = AuthMethod::None;
    let started = Instant::now();
    let mut init = AppInit::new(spec);
    init.connect_now = true;
    init.banner = None;
    let (mut app, initial) = App::new(init);
    app.set_utc_offset(0);
    let input = futures_util::stream::pending::<io::Result<crossterm::event::Event>>();
    let timeout = Duration::from_secs(args.timeout_secs);
    let exit = rt.block_on(async {
        let shutdown = async {
            let _ = tokio::time::timeout(timeout, done.notified()).await;
        };
        wsdeck::tui::run(
            &mut terminal,
            app,
            initial,
            input,
            shutdown,
            wsdeck::tui::RunOptions::default(),
        )
        .await
    })?;
    let rec = record.lock().unwrap_or_else(|e| e.into_inner());
    let Some(finish) = rec.done else {
        bail!(
            "not all {} messages drawn within {} s (exit {exit:?}, {} frames)",
            args.count,
            args.timeout_secs,
            rec.frames.len()
        );
    };
    let ingest = finish.at.duration_since(started).as_secs_f64();
    let draws = rec.frames.iter().filter(|f| f.at <= finish.at).count();
    // Longest stretch without a new frame (from the start) until everything was drawn: how
    // long the screen stood still during the flood.
    let mut max_gap = Duration::ZERO;
    let mut prev = started;
    for f in rec.frames.iter().filter(|f| f.at <= finish.at) {
        max_gap = max_gap.max(f.at.duration_since(prev));
        prev = f.at;
    }
    let mut line = format!(
        "ui_core count={} ingest_s={ingest:.3} draws={draws} max_gap_ms={:.1} \
         rss_before_kb={rss_before} rss_full_kb={} rss_peak_kb={}",
        args.count,
        max_gap.as_secs_f64() * 1e3,
        rec.memory.rss_kb,
        rec.memory.peak_kb
    );
    if let Some(path) = &args.stamp_log {
        let sent = read_stamp_log(path, args.count)?;
        // For each message, the first frame showing its sequence number (or a later one).
        let mut lat = Vec::with_capacity(sent.len());
        let mut frames = rec.frames.iter().filter(|f| f.max_seq > 0).peekable();
        let mut shown_upto = 0u64;
        let mut shown_at = 0u128;
        for (i, &sent_ns) in sent.iter().enumerate() {
            let seq = i as u64 + 1;
            while shown_upto < seq {
                match frames.next() {
                    Some(f) => {
                        shown_upto = shown_upto.max(f.max_seq);
                        shown_at = f.unix_ns;
                    }
                    None => bail!("message #{seq} was never seen on screen"),
                }
            }
            lat.push(shown_at.saturating_sub(sent_ns) as f64 / 1e6);
        }
        lat.sort_by(f64::total_cmp);
        line.push_str(&format!(
            " lat_p50_ms={:.2} lat_p99_ms={:.2} lat_max_ms={:.2}",
            percentile(&lat, 50.0),
            percentile(&lat, 99.0),
            lat.last().copied().unwrap_or(f64::NAN)
        ));
    }
    println!("{line}");
    Ok(())
}
