//! Load tool for the entries benchmarks (`bench/entries.sh` drives it; see BENCHMARKS.md).
//!
//! - `seed`: creates verified participants, teams and live sessions directly in the database
//!   named by the `DXCONTEST_*` settings (no HTTP, no password hashing), migrating it first.
//!   Writes one session token per team (its leader's).
//! - `prepare`: creates one complete draft entry per team over HTTP; writes `token entry_id`.
//! - `saves`: closed-loop text-only draft saves (`PUT /api/v1/entries/{id}`).
//! - `submits`: closed loop of a fresh attachment upload then a submit, per iteration.
//! - `memory`: N uploads of the given size at once while the server's VmRSS is sampled.
//!
//! Each measurement prints one `RESULT {json}` line. The same commands drive the bare baseline
//! (`examples/entries_baseline.rs`), which serves the same paths and ignores the tokens.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seed participants, teams and sessions into the configured database.
    Seed {
        #[arg(long, default_value_t = 400)]
        teams: usize,
        /// Members per team (each gets a receipt mail per submit).
        #[arg(long, default_value_t = 3)]
        members: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Create one complete draft entry per token (or `count` entries without tokens).
    Prepare {
        #[arg(long)]
        base: String,
        #[arg(long)]
        tokens: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        count: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Text-only draft saves, closed loop.
    Saves {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Upload a fresh attachment, then submit; closed loop.
    Submits {
        #[command(flatten)]
        run: RunArgs,
        /// Attachment size in bytes.
        #[arg(long, default_value_t = 1 << 20)]
        size: usize,
    },
    /// Mail in the outbox by status, read from the configured database; with `--watch SECS`,
    /// also how many were sent per second over that time.
    Outbox {
        #[arg(long, default_value_t = 0.0)]
        watch: f64,
    },
    /// `uploads` uploads of `size` bytes at once (each to its own entry), sampling the server's
    /// memory.
    Memory {
        #[arg(long)]
        base: String,
        #[arg(long)]
        entries: PathBuf,
        #[arg(long)]
        pid: u32,
        #[arg(long, default_value_t = 50)]
        uploads: usize,
        #[arg(long)]
        size: u64,
        /// Size of the warm-up uploads (the same count, at once) made before idle is read.
        #[arg(long, default_value_t = 64 << 10)]
        warm_size: u64,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    #[arg(long)]
    base: String,
    #[arg(long)]
    entries: PathBuf,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 20.0)]
    secs: f64,
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// A label copied into the result.
    #[arg(long, default_value = "")]
    label: String,
    /// A query string added to the save URL (the baseline's `reads=N`).
    #[arg(long, default_value = "")]
    query: String,
}

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Res<()> {
    match Cli::parse().command {
        Command::Seed {
            teams,
            members,
            out,
        } => seed(teams, members, &out).await,
        Command::Prepare {
            base,
            tokens,
            count,
            out,
        } => prepare(&base, tokens, count, &out).await,
        Command::Saves { run } => saves(run).await,
        Command::Submits { run, size } => submits(run, size).await,
        Command::Outbox { watch } => outbox(watch).await,
        Command::Memory {
            base,
            entries,
            pid,
            uploads,
            size,
            warm_size,
        } => memory(&base, &entries, pid, uploads, size, warm_size).await,
    }
}

// --- Seeding ----------------------------------------------------------------------------------

async fn seed(teams: usize, members: usize, out: &std::path::Path) -> Res<()> {
    use dxcontest::domain::account::Role;
    use dxcontest::i18n::Lang;
    use dxcontest::service::{new_token, now_ms};
    use dxcontest::store::accounts::{NewUser, insert_session, insert_user};
    use dxcontest::store::teams::{TeamRecord, insert_member, insert_team};

    let config = dxcontest::config::Config::load(None)?;
    let store = dxcontest::store::Store::connect(&config.database).await?;
    store.migrate().await?;
    let now = now_ms();
    let expires = now + 30 * 24 * 3_600_000;
    let mut tokens = String::new();
    // Batches keep each transaction short.
    for chunk in (0..teams).collect::<Vec<_>>().chunks(100) {
        let mut tx = store.begin_write().await?;
        for &t in chunk {
            let team_id = dxcontest::store::new_id();
            let mut leader = String::new();
            let mut ids = Vec::new();
            for m in 0..members.max(1) {
                let id = dxcontest::store::new_id();
                insert_user(
                    &mut *tx,
                    &NewUser {
                        id: &id,
                        email: &format!("bench{t:05}.{m}@example.vn"),
                        full_name: &format!("Thành viên {m} đội {t}"),
                        organization: "Đại học Bách khoa",
                        phone: None,
                        lang: if m % 2 == 0 { Lang::Vi } else { Lang::En },
                        role: Role::Participant,
                        password_hash: "-",
                        verified_at: Some(now),
                        now,
                    },
                )
                .await?;
                if m == 0 {
                    leader = id.clone();
                }
                ids.push(id);
            }
            insert_team(
                &mut *tx,
                &TeamRecord {
                    id: team_id.clone(),
                    name: format!("Đội thử tải {t:05}"),
                    name_key: format!("doi thu tai {t:05}"),
                    kind: "student".into(),
                    province: "Hà Nội".into(),
                    organization: "Đại học Bách khoa".into(),
                    leader_id: leader.clone(),
                    created_at: now,
                    updated_at: now,
                },
            )
            .await?;
            for id in &ids {
                insert_member(&mut *tx, &team_id, id, now).await?;
            }
            let (token, hash) = new_token();
            insert_session(&mut *tx, &hash, &leader, now, expires, None).await?;
            tokens.push_str(&token);
            tokens.push('\n');
        }
        tx.commit().await?;
    }
    store.close().await;
    std::fs::write(out, tokens)?;
    eprintln!("seeded {teams} teams of {members}");
    Ok(())
}

async fn outbox(watch: f64) -> Res<()> {
    let config = dxcontest::config::Config::load(None)?;
    let store = dxcontest::store::Store::connect(&config.database).await?;
    let counts = async || -> Res<Value> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status")
                .fetch_all(store.pool())
                .await?;
        let mut v = json!({ "kind": "outbox" });
        for (status, n) in rows {
            v[status] = json!(n);
        }
        Ok(v)
    };
    let mut result = counts().await?;
    if watch > 0.0 {
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs_f64(watch)).await;
        let later = counts().await?;
        let sent = |v: &Value| v["sent"].as_i64().unwrap_or(0);
        result["sent_per_sec_after"] =
            json!((sent(&later) - sent(&result)) as f64 / t0.elapsed().as_secs_f64());
        result["watch_secs"] = json!(watch);
    }
    store.close().await;
    println!("RESULT {result}");
    Ok(())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client")
}

fn entry_text(n: u64) -> Value {
    json!({
        "title": "Nền tảng số hoá hồ sơ đất đai cấp xã",
        "summary": format!("Bản nháp số {n}: hệ thống giúp cán bộ địa chính số hoá và tra cứu hồ sơ đất đai, giảm thời gian xử lý thủ tục từ nhiều ngày xuống vài giờ."),
        "description": "## Vấn đề\n\nHồ sơ đất đai cấp xã phần lớn còn trên giấy. ".repeat(20)
            + "\n\n## Giải pháp\n\nỨng dụng web và di động, nhận dạng chữ viết tay, đồng bộ với cơ sở dữ liệu quốc gia.",
        "maturity": "prototype",
        "technologies": "Rust, PostgreSQL, OCR",
        "experience": "Nhóm đã triển khai thử ở hai xã.",
        "demo_url": "https://example.vn/demo",
    })
}

async fn check(resp: reqwest::Response, what: &str) -> Res<Value> {
    let status = resp.status();
    let body = resp.text().await?;
    if !status.is_success() {
        return Err(format!("{what}: {status} {body}").into());
    }
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn prepare(
    base: &str,
    tokens: Option<PathBuf>,
    count: usize,
    out: &std::path::Path,
) -> Res<()> {
    let tokens: Vec<String> = match tokens {
        Some(f) => std::fs::read_to_string(f)?
            .lines()
            .map(str::to_owned)
            .collect(),
        None => (0..count).map(|_| "-".to_owned()).collect(),
    };
    let c = client();
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (c, base, sem) = (c.clone(), base.to_owned(), Arc::clone(&sem));
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await;
            let mut body = entry_text(0);
            body["problem_code"] = json!(format!("BT-{:02}", i % 72 + 1));
            let resp = c
                .post(format!("{base}/api/v1/entries"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await?;
            let v = check(resp, "create entry").await?;
            let id = v["id"].as_str().ok_or("no id")?.to_owned();
            Res::Ok(format!("{token} {id}\n"))
        }));
    }
    let mut lines = String::new();
    for t in tasks {
        lines.push_str(&t.await??);
    }
    std::fs::write(out, lines)?;
    Ok(())
}

fn read_entries(f: &std::path::Path) -> Res<Vec<(String, String)>> {
    Ok(std::fs::read_to_string(f)?
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(t, e)| (t.to_owned(), e.to_owned()))
        .collect())
}

// --- Closed-loop runs -------------------------------------------------------------------------

#[derive(Default)]
struct WorkerStats {
    /// Per counted iteration, milliseconds: (whole, first request, second request).
    lat: Vec<(f64, f64, f64)>,
    errors: u64,
    first_error: Option<String>,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

/// Runs `iteration(worker, n, entry)` on `concurrency` workers: a warm-up, then `secs` counted.
/// Worker w cycles over the entries w, w + concurrency, … so no entry is used by two at once.
async fn closed_loop<F, Fut>(run: &RunArgs, kind: &str, iteration: F) -> Res<()>
where
    F: Fn(usize, u64, (String, String)) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(f64, f64), String>> + Send,
{
    let entries = Arc::new(read_entries(&run.entries)?);
    if entries.len() < run.concurrency {
        return Err("fewer entries than workers".into());
    }
    let iteration = Arc::new(iteration);
    let started = Instant::now();
    let warm_end = started + Duration::from_secs_f64(run.warmup);
    let end = warm_end + Duration::from_secs_f64(run.secs);
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for w in 0..run.concurrency {
        let (entries, iteration, stop) = (
            Arc::clone(&entries),
            Arc::clone(&iteration),
            Arc::clone(&stop),
        );
        let conc = run.concurrency;
        handles.push(tokio::spawn(async move {
            let mut st = WorkerStats::default();
            let mut n: u64 = 0;
            let mut idx = w;
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let r = iteration(w, n, entries[idx].clone()).await;
                let t1 = Instant::now();
                n += 1;
                idx += conc;
                if idx >= entries.len() {
                    idx = w;
                }
                // Counted when it both started and finished inside the measured window.
                let counted = t0 >= warm_end && t1 <= end;
                match r {
                    Ok((a, b)) if counted => {
                        st.lat.push(((t1 - t0).as_secs_f64() * 1e3, a, b));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        st.errors += 1;
                        st.first_error.get_or_insert(e);
                    }
                }
                if t1 >= end {
                    break;
                }
            }
            st
        }));
    }
    tokio::time::sleep_until(end.into()).await;
    let mut all = WorkerStats::default();
    // Workers finish their current iteration; give them time, then stop the stragglers.
    let grace = tokio::time::sleep(Duration::from_secs(60));
    tokio::pin!(grace);
    for h in handles {
        tokio::select! {
            r = h => {
                let st = r?;
                all.lat.extend(st.lat);
                all.errors += st.errors;
                if all.first_error.is_none() { all.first_error = st.first_error; }
            }
            () = &mut grace => { stop.store(true, Ordering::Relaxed); }
        }
    }
    if let Some(e) = &all.first_error {
        eprintln!("first error: {e}");
    }
    let n = all.lat.len();
    let mut whole: Vec<f64> = all.lat.iter().map(|l| l.0).collect();
    let mut a: Vec<f64> = all.lat.iter().map(|l| l.1).collect();
    let mut b: Vec<f64> = all.lat.iter().map(|l| l.2).collect();
    let result = json!({
        "kind": kind,
        "label": run.label,
        "concurrency": run.concurrency,
        "secs": run.secs,
        "count": n,
        "per_sec": n as f64 / run.secs,
        "p50_ms": pct(&mut whole, 0.5),
        "p99_ms": pct(&mut whole, 0.99),
        "first_p50_ms": pct(&mut a, 0.5),
        "first_p99_ms": pct(&mut a, 0.99),
        "second_p50_ms": pct(&mut b, 0.5),
        "second_p99_ms": pct(&mut b, 0.99),
        "errors": all.errors,
    });
    println!("RESULT {result}");
    Ok(())
}

async fn saves(run: RunArgs) -> Res<()> {
    let c = client();
    let base = run.base.clone();
    let query = if run.query.is_empty() {
        String::new()
    } else {
        format!("?{}", run.query)
    };
    closed_loop(&run, "saves", move |w, n, (token, id)| {
        let (c, base, query) = (c.clone(), base.clone(), query.clone());
        async move {
            let t0 = Instant::now();
            let body = entry_text((w as u64) << 32 | n);
            let resp = c
                .put(format!("{base}/api/v1/entries/{id}{query}"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("save: {status} {text}"));
            }
            Ok((t0.elapsed().as_secs_f64() * 1e3, 0.0))
        }
    })
    .await
}

/// A PDF-looking body of `size` bytes whose content differs for each (worker, n).
fn pdf_body(template: &Bytes, w: usize, n: u64) -> Bytes {
    let mut v = template.to_vec();
    let stamp = format!("{w:08}-{n:016}");
    let at = 16.min(v.len());
    let end = (at + stamp.len()).min(v.len());
    v[at..end].copy_from_slice(&stamp.as_bytes()[..end - at]);
    Bytes::from(v)
}

fn pdf_template(size: usize) -> Bytes {
    let mut v = Vec::with_capacity(size);
    v.extend_from_slice(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
    // Cheap pseudo-random filler (xorshift), so nothing downstream can shortcut on zeros.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while v.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(size);
    Bytes::from(v)
}

async fn submits(run: RunArgs, size: usize) -> Res<()> {
    let c = client();
    let base = run.base.clone();
    let template = pdf_template(size);
    closed_loop(&run, "submits", move |w, n, (token, id)| {
        let (c, base) = (c.clone(), base.clone());
        let body = pdf_body(&template, w, n);
        async move {
            let t0 = Instant::now();
            let resp = c
                .post(format!("{base}/api/v1/entries/{id}/attachments"))
                .query(&[("name", format!("ho-so-{w}-{n}.pdf"))])
                .bearer_auth(&token)
                .header("content-type", "application/pdf")
                .body(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("upload: {status} {text}"));
            }
            let t1 = Instant::now();
            let resp = c
                .post(format!("{base}/api/v1/entries/{id}/submit"))
                .bearer_auth(&token)
                .header("idempotency-key", format!("bench-{w}-{n}"))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("submit: {status} {text}"));
            }
            Ok((
                (t1 - t0).as_secs_f64() * 1e3,
                t1.elapsed().as_secs_f64() * 1e3,
            ))
        }
    })
    .await
}

// --- Memory -----------------------------------------------------------------------------------

/// (VmRSS, VmHWM) in KiB.
fn mem_of(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// A body of `size` bytes made of 64 KiB chunks as they are sent, so the client holds none of
/// it.
fn streamed_pdf(size: u64) -> reqwest::Body {
    const CHUNK: u64 = 64 << 10;
    let first = pdf_template(CHUNK as usize);
    let rest = Bytes::from(vec![b'x'; CHUNK as usize]);
    let chunks = size.div_ceil(CHUNK);
    let stream = futures_util::stream::iter((0..chunks).map(move |i| {
        let len = (size - i * CHUNK).min(CHUNK) as usize;
        let src = if i == 0 { &first } else { &rest };
        Ok::<Bytes, std::io::Error>(src.slice(..len))
    }));
    reqwest::Body::wrap_stream(stream)
}

async fn upload_all(
    c: &reqwest::Client,
    base: &str,
    entries: &[(String, String)],
    size: u64,
    tag: &str,
) -> Res<f64> {
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (i, (token, id)) in entries.iter().enumerate() {
        let req = c
            .post(format!("{base}/api/v1/entries/{id}/attachments"))
            .query(&[("name", format!("{tag}-{i}.pdf"))])
            .bearer_auth(token)
            .header("content-type", "application/pdf")
            .header("content-length", size.to_string())
            .body(streamed_pdf(size));
        tasks.push(tokio::spawn(async move {
            check(req.send().await?, "upload").await
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(t0.elapsed().as_secs_f64())
}

async fn memory(
    base: &str,
    entries: &std::path::Path,
    pid: u32,
    uploads: usize,
    size: u64,
    warm_size: u64,
) -> Res<()> {
    let entries = read_entries(entries)?;
    if entries.len() < uploads {
        return Err("fewer entries than uploads".into());
    }
    let entries = &entries[..uploads];
    let c = client();
    let (cold_rss, _) = mem_of(pid).ok_or("no such process")?;
    // Warm-up: the same number of small uploads at once (connections, buffers, blocking
    // threads), then let it settle.
    upload_all(&c, base, entries, warm_size, "warm").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (idle_rss, idle_hwm) = mem_of(pid).ok_or("no such process")?;
    let peak = Arc::new(AtomicU64::new(idle_rss));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut samples = 0u64;
            while !done.load(Ordering::Relaxed) {
                if let Some((rss, _)) = mem_of(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                samples += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            samples
        })
    };
    let secs = upload_all(&c, base, entries, size, "big").await?;
    done.store(true, Ordering::Relaxed);
    let samples = sampler.join().map_err(|_| "sampler panicked")?;
    let (after_rss, after_hwm) = mem_of(pid).ok_or("no such process")?;
    let sampled_peak = peak.load(Ordering::Relaxed);
    // VmHWM counts from the start of the process; it says something about the burst only if it
    // rose during it.
    let peak_kib = if after_hwm > idle_hwm {
        sampled_peak.max(after_hwm)
    } else {
        sampled_peak
    };
    let result = json!({
        "kind": "memory",
        "uploads": uploads,
        "size": size,
        "secs": secs,
        "mb_per_sec": (uploads as f64 * size as f64) / 1e6 / secs,
        "cold_rss_kib": cold_rss,
        "idle_rss_kib": idle_rss,
        "idle_hwm_kib": idle_hwm,
        "sampled_peak_rss_kib": sampled_peak,
        "hwm_after_kib": after_hwm,
        "after_rss_kib": after_rss,
        "peak_kib": peak_kib,
        "peak_over_idle_kib": peak_kib.saturating_sub(idle_rss),
        "samples": samples,
    });
    println!("RESULT {result}");
    Ok(())
}
