//! Outgoing mail end to end: the outbox row commits with its cause, the dispatcher delivers it
//! to a real SMTP server running in this process (mailin-embedded), once, through outages,
//! crashes and competing dispatchers; the file transport writes parseable `.eml` files.
//!
//! `TestSmtp` and `parse_mail` are public so other test files can use them
//! (`crate::mail::TestSmtp`).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dxcontest::config::Config;
use dxcontest::i18n::Lang;
use dxcontest::mail::{
    Dispatcher, MailKind, NewMail, OutboxFilter, OutboxRow, OutboxStatus, enqueue_mail, new_mail,
};
use dxcontest::service::now_ms;
use dxcontest::store::Store;
use mailin_embedded::{Handler, Response, response};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{Backend, TestDb, test_config};
use crate::on_both_backends;

const WAIT: Duration = Duration::from_secs(15);
const CONTEST_VI: &str = "Cuộc thi Tìm kiếm giải pháp Chuyển đổi số Quốc gia";
const CONTEST_EN: &str = "National Digital Transformation Solution Contest";

// ---------------------------------------------------------------------------------------------
// A real SMTP server for tests.

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender (MAIL FROM).
    pub from: String,
    /// The envelope recipients (RCPT TO).
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and body).
    pub data: Vec<u8>,
}

impl Received {
    pub fn parse(&self) -> ParsedMail {
        parse_mail(&self.data)
    }
}

#[derive(Clone)]
struct Collector {
    received: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<HashSet<String>>>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.from = from.to_owned();
        self.to.clear();
        self.data.clear();
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let address = to.trim_matches(['<', '>']).to_owned();
        if lock(&self.refused).contains(&address) {
            return response::NO_MAILBOX;
        }
        self.to.push(address);
        response::OK
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        lock(&self.received).push(Received {
            from: self.from.trim_matches(['<', '>']).to_owned(),
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        });
        response::OK
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An SMTP server (mailin-embedded, plain SMTP, no auth) in this process that keeps every
/// message it accepts. It listens behind a small TCP relay on `127.0.0.1:port()`, so `stop`
/// really closes the port (connections are refused) and `restart` opens the same port again.
/// (mailin-embedded itself cannot be stopped: its thread lives until the test process ends.)
pub struct TestSmtp {
    port: u16,
    upstream: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<HashSet<String>>>,
    relay: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TestSmtp {
    /// Starts on a free port.
    pub async fn start() -> TestSmtp {
        TestSmtp::start_on(0).await
    }

    /// Starts on `port` (0 picks a free one).
    pub async fn start_on(port: u16) -> TestSmtp {
        let received = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(HashSet::new()));
        let handler = Collector {
            received: Arc::clone(&received),
            refused: Arc::clone(&refused),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind SMTP server");
        let upstream = listener.local_addr().expect("SMTP server address");
        let mut server = mailin_embedded::Server::new(handler);
        server
            .with_name("smtp.test")
            .with_num_threads(8)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        let mut smtp = TestSmtp {
            port,
            upstream,
            received,
            refused,
            relay: Mutex::new(None),
        };
        smtp.port = smtp.open(port).await;
        smtp
    }

    /// A port that was free a moment ago.
    pub fn unused_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port()
    }

    async fn open(&self, port: u16) -> u16 {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind SMTP port");
        let port = listener.local_addr().expect("SMTP port").port();
        let upstream = self.upstream;
        let relay = tokio::spawn(async move {
            // Dropping the set (when the relay is aborted) closes every relayed connection.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                connections.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        *lock(&self.relay) = Some(relay);
        port
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Closes the port and every open connection: clients now get "connection refused".
    pub async fn stop(&self) {
        let relay = lock(&self.relay).take();
        if let Some(relay) = relay {
            relay.abort();
            let _ = relay.await;
        }
    }

    /// Opens the same port again after `stop`.
    pub async fn restart(&self) {
        self.stop().await;
        self.open(self.port).await;
    }

    /// Answers 550 (mailbox unavailable) to RCPT TO for this address from now on.
    pub fn refuse(&self, address: &str) {
        lock(&self.refused).insert(address.to_owned());
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.received).clone()
    }

    /// Waits until at least `n` messages have arrived (panics after `timeout`) and returns all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages within {timeout:?}, received {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestSmtp {
    fn drop(&mut self) {
        if let Some(relay) = lock(&self.relay).take() {
            relay.abort();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A small MIME reader: enough for lettre's multipart/alternative messages.

/// A message's headers (unfolded) and its decoded text and HTML parts.
#[derive(Debug, Clone)]
pub struct ParsedMail {
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub html: String,
}

impl ParsedMail {
    /// The first header of that name (any case), undecoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The subject, RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        decode_words(self.header("Subject").unwrap_or(""))
    }

    pub fn message_id(&self) -> Option<&str> {
        self.header("Message-ID")
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn split_head(s: &str) -> (&str, &str) {
    s.split_once("\n\n").unwrap_or((s, ""))
}

fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    headers
}

fn content_param(content_type: &str, name: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn decode_body(headers: &[(String, String)], body: &str) -> String {
    let encoding = header(headers, "Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => base64_decode(body),
        "quoted-printable" => qp_decode(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).expect("a UTF-8 body")
}

/// Parses a whole message; line endings become `\n`.
pub fn parse_mail(raw: &[u8]) -> ParsedMail {
    let raw = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = split_head(&raw);
    let headers = parse_headers(head);
    let content_type = header(&headers, "Content-Type").unwrap_or("text/plain");
    let (mut text, mut html) = (String::new(), String::new());
    if content_type.to_ascii_lowercase().starts_with("multipart/") {
        let boundary = content_param(content_type, "boundary").expect("multipart boundary");
        let delimiter = format!("--{boundary}");
        for part in body.split(delimiter.as_str()).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let part = part.strip_prefix('\n').unwrap_or(part);
            let part = part.strip_suffix('\n').unwrap_or(part);
            let (part_head, part_body) = split_head(part);
            let part_headers = parse_headers(part_head);
            let kind = header(&part_headers, "Content-Type")
                .unwrap_or("text/plain")
                .to_ascii_lowercase();
            let decoded = decode_body(&part_headers, part_body);
            if kind.starts_with("text/html") {
                html = decoded;
            } else if kind.starts_with("text/plain") {
                text = decoded;
            }
        }
    } else {
        text = decode_body(&headers, body);
    }
    ParsedMail {
        headers,
        text,
        html,
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn qp_decode(s: &str) -> Vec<u8> {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let (Some(h), Some(l)) = (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`); whitespace between
/// two encoded words is dropped.
fn decode_words(s: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut rest = s;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        if !(after_word && before.trim().is_empty()) {
            out.extend_from_slice(before.as_bytes());
        }
        let word = &rest[start + 2..];
        let mut pieces = word.splitn(3, '?');
        let (_charset, encoding, tail) = (pieces.next(), pieces.next(), pieces.next());
        match (
            encoding,
            tail.and_then(|t| t.find("?=").map(|end| (t, end))),
        ) {
            (Some(encoding), Some((tail, end))) => {
                let text = &tail[..end];
                if encoding.eq_ignore_ascii_case("b") {
                    out.extend(base64_decode(text));
                } else {
                    out.extend(qp_decode(&text.replace('_', " ")));
                }
                rest = &tail[end + 2..];
                after_word = true;
            }
            _ => {
                out.extend_from_slice(b"=?");
                rest = word;
                after_word = false;
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    String::from_utf8(out).expect("a UTF-8 header")
}

// ---------------------------------------------------------------------------------------------
// The tests.

on_both_backends!(
    delivers_through_smtp_with_both_parts_and_diacritics,
    smtp_down_then_up_is_retried_with_backoff_and_sent_once,
    two_dispatchers_send_fifty_messages_exactly_once,
    claimed_but_unsent_mail_is_recovered_after_the_lease,
    failed_after_max_attempts_then_retry_failed_delivers,
    permanent_refusal_fails_at_once,
    rolled_back_enqueue_leaves_no_row,
    file_transport_writes_parseable_eml,
    organizer_and_personal_views,
    spawned_dispatcher_wakes_and_shuts_down,
);

/// A migrated database, its config, and no HTTP server.
struct MailEnv {
    store: Store,
    config: Config,
    _dir: TempDir,
    _db: TestDb,
}

impl MailEnv {
    async fn new(backend: Backend, overrides: &[(&str, Value)]) -> MailEnv {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&db.url, &dir, overrides);
        let store = Store::connect(&config.database).await.expect("connect");
        store.migrate().await.expect("migrate");
        MailEnv {
            store,
            config,
            _dir: dir,
            _db: db,
        }
    }

    fn dispatcher(&self) -> Dispatcher {
        Dispatcher::new(self.store.clone(), &self.config.mail).expect("dispatcher")
    }

    async fn enqueue(&self, mail: &NewMail) -> String {
        let mut tx = self.store.begin_write().await.expect("begin");
        let id = enqueue_mail(&mut tx, mail).await.expect("enqueue");
        tx.commit().await.expect("commit");
        id
    }

    async fn row(&self, id: &str) -> OutboxRow {
        self.store
            .outbox_message(id)
            .await
            .expect("load")
            .expect("row exists")
    }

    /// The row once it reaches `status` (or as it is after 10 s, for the caller to assert on).
    async fn row_with_status(&self, id: &str, status: OutboxStatus) -> OutboxRow {
        for _ in 0..100 {
            let row = self.row(id).await;
            if row.status == status {
                return row;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.row(id).await
    }
}

/// Settings for sending to `smtp`, plus `extra`.
fn smtp_settings(port: u16, extra: &[(&'static str, Value)]) -> Vec<(&'static str, Value)> {
    let mut v = vec![
        ("mail.transport", json!("smtp")),
        ("mail.smtp.host", json!("127.0.0.1")),
        ("mail.smtp.port", json!(port)),
        ("mail.smtp.timeout_secs", json!(5)),
        ("mail.dispatcher.lease_secs", json!(30)),
        ("mail.dispatcher.poll_interval_ms", json!(50)),
    ];
    v.extend(extra.iter().cloned());
    v
}

fn verify_mail(to: &str, name: &str, lang: Lang) -> NewMail {
    let kind = MailKind::VerifyEmail {
        name: name.to_owned(),
        url: format!("http://127.0.0.1:8080/account/verify?token=tok-{to}"),
    };
    let contest = lang.pick(CONTEST_VI, CONTEST_EN);
    new_mail(to, None, lang, &kind, contest)
}

fn lf(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// Runs rounds until one claims something, for up to `within`.
async fn run_until_claimed(d: &Dispatcher, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let n = d.run_once().await.expect("round");
        if n > 0 {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "nothing became due within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn delivers_through_smtp_with_both_parts_and_diacritics(backend: Backend) {
    let smtp = TestSmtp::start().await;
    let env = MailEnv::new(backend, &smtp_settings(smtp.port(), &[])).await;
    let vi = new_mail(
        "huong@example.vn",
        Some("user-1"),
        Lang::Vi,
        &MailKind::VerifyEmail {
            name: "Nguyễn Thị Hương".to_owned(),
            url: "http://127.0.0.1:8080/account/verify?token=abc".to_owned(),
        },
        CONTEST_VI,
    );
    let en = new_mail(
        "jane@example.com",
        None,
        Lang::En,
        &MailKind::TeamInvitation {
            team: "Sao Mai".to_owned(),
            inviter: "Trần Văn Bình".to_owned(),
            url: "http://127.0.0.1:8080/teams/join?code=xyz".to_owned(),
        },
        CONTEST_EN,
    );
    let vi_id = env.enqueue(&vi).await;
    let en_id = env.enqueue(&en).await;

    let d = env.dispatcher();
    assert_eq!(d.run_once().await.expect("round"), 2);
    let got = smtp.wait_for(2, WAIT).await;
    assert_eq!(got.len(), 2);

    for (id, sent) in [(&vi_id, &vi), (&en_id, &en)] {
        let row = env.row(id).await;
        assert_eq!(row.status, OutboxStatus::Sent);
        assert_eq!(row.attempts, 1);
        assert!(row.sent_at.is_some());
        assert_eq!(row.last_error, None);
        assert_eq!(row.lease_owner.as_deref(), Some(d.owner()));

        let received = got
            .iter()
            .find(|r| r.to == vec![sent.to_email.clone()])
            .expect("a message for this recipient");
        assert_eq!(received.from, "no-reply@localhost");
        let mail = received.parse();
        assert_eq!(mail.subject(), sent.subject);
        assert!(
            mail.header("Content-Type")
                .expect("content type")
                .starts_with("multipart/alternative"),
            "{:?}",
            mail.headers
        );
        assert_eq!(lf(&mail.text), lf(&sent.text));
        assert_eq!(lf(&mail.html), lf(&sent.html));
        assert_eq!(
            mail.message_id(),
            Some(format!("<{}@localhost>", row.message_id).as_str())
        );
        assert_eq!(mail.header("Auto-Submitted"), Some("auto-generated"));
        assert!(mail.header("Date").is_some());
    }

    let vi_mail = got
        .iter()
        .find(|r| r.to == vec!["huong@example.vn".to_owned()])
        .expect("Vietnamese message")
        .parse();
    assert!(
        vi_mail
            .subject()
            .starts_with("Xác nhận địa chỉ email – Cuộc thi Tìm kiếm giải pháp"),
        "{}",
        vi_mail.subject()
    );
    assert!(vi_mail.text.contains("Kính gửi Nguyễn Thị Hương,"));
    assert!(
        vi_mail
            .text
            .contains("http://127.0.0.1:8080/account/verify?token=abc")
    );
    assert!(vi_mail.html.contains("Nguyễn Thị Hương"));
    assert!(vi_mail.html.contains("Trân trọng"));
    let en_mail = got
        .iter()
        .find(|r| r.to == vec!["jane@example.com".to_owned()])
        .expect("English message")
        .parse();
    assert!(
        en_mail
            .text
            .contains("Trần Văn Bình invites you to join the team “Sao Mai”")
    );
    assert_eq!(
        d.run_once().await.expect("round"),
        0,
        "nothing left to send"
    );
    assert_eq!(smtp.received().len(), 2);
}

async fn smtp_down_then_up_is_retried_with_backoff_and_sent_once(backend: Backend) {
    // No server at first: nothing listens on the port.
    let port = TestSmtp::unused_port();
    let settings = smtp_settings(
        port,
        &[
            ("mail.dispatcher.backoff_base_secs", json!(1)),
            ("mail.dispatcher.max_backoff_secs", json!(60)),
        ],
    );
    let env = MailEnv::new(backend, &settings).await;
    let id = env
        .enqueue(&verify_mail("an@example.vn", "Lê Văn An", Lang::Vi))
        .await;
    let d = env.dispatcher();

    let before = now_ms();
    let round = d.round().await.expect("round");
    let after = now_ms();
    assert_eq!((round.claimed, round.retried, round.sent), (1, 1, 0));
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Queued);
    assert_eq!(row.attempts, 1);
    assert!(row.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    assert_eq!(row.lease_owner, None);
    assert!(
        row.next_attempt_at >= before + 1000 && row.next_attempt_at <= after + 1000,
        "first retry one backoff base later: {} not in {}..={}",
        row.next_attempt_at,
        before + 1000,
        after + 1000
    );
    assert_eq!(
        d.run_once().await.expect("round"),
        0,
        "not due before its backoff"
    );

    let smtp = TestSmtp::start_on(port).await;
    assert_eq!(run_until_claimed(&d, Duration::from_secs(5)).await, 1);
    let got = smtp.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Sent);
    assert_eq!(row.attempts, 2);
    assert_eq!(row.last_error, None);

    assert_eq!(d.run_once().await.expect("round"), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1, "sent exactly once");
}

async fn two_dispatchers_send_fifty_messages_exactly_once(backend: Backend) {
    let smtp = TestSmtp::start().await;
    let settings = smtp_settings(smtp.port(), &[("mail.dispatcher.batch_size", json!(5))]);
    let env = MailEnv::new(backend, &settings).await;
    let mut expected = HashSet::new();
    for i in 0..50 {
        let to = format!("user{i}@example.vn");
        env.enqueue(&verify_mail(&to, &format!("Người dùng {i}"), Lang::Vi))
            .await;
        expected.insert(to);
    }
    // Two dispatchers with their own pools, as two server processes would have.
    let other = Store::connect(&env.config.database)
        .await
        .expect("second pool");
    let a = env.dispatcher();
    let b = Dispatcher::new(other.clone(), &env.config.mail).expect("dispatcher");
    assert_ne!(a.owner(), b.owner());

    let drain = |d: Dispatcher| async move {
        let mut claimed = 0;
        loop {
            let round = d.round().await.expect("round");
            assert_eq!(round.sent, round.claimed, "{round:?}");
            if round.claimed == 0 {
                return claimed;
            }
            claimed += round.claimed;
        }
    };
    let (by_a, by_b) = tokio::join!(drain(a), drain(b));
    assert_eq!(by_a + by_b, 50, "claimed {by_a} + {by_b}");

    let got = smtp.wait_for(50, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_after = smtp.received();
    assert_eq!(got_after.len(), 50, "no duplicates arrive late");
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    let mut ids = HashSet::new();
    for r in &got {
        assert_eq!(r.to.len(), 1);
        *per_recipient.entry(r.to[0].clone()).or_default() += 1;
        ids.insert(r.parse().message_id().expect("Message-ID").to_owned());
    }
    assert_eq!(ids.len(), 50, "50 distinct Message-IDs");
    assert!(per_recipient.values().all(|&n| n == 1), "{per_recipient:?}");
    assert_eq!(
        per_recipient.keys().cloned().collect::<HashSet<_>>(),
        expected
    );
    let counts = env.store.outbox_counts().await.expect("counts");
    assert_eq!((counts.sent, counts.total()), (50, 50));
    other.close().await;
}

async fn claimed_but_unsent_mail_is_recovered_after_the_lease(backend: Backend) {
    let smtp = TestSmtp::start().await;
    let settings = smtp_settings(smtp.port(), &[("mail.dispatcher.lease_secs", json!(1))]);
    let env = MailEnv::new(backend, &settings).await;
    let id = env
        .enqueue(&verify_mail("binh@example.vn", "Trần Bình", Lang::Vi))
        .await;

    // A process claims the message, then dies before sending it.
    let crashed = env.dispatcher();
    let crashed_owner = crashed.owner().to_owned();
    let claimed = env
        .store
        .claim_mail(&crashed_owner, now_ms(), 1000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, id);
    assert_eq!(claimed[0].status, OutboxStatus::Sending);
    drop(crashed);

    let d = env.dispatcher();
    assert_eq!(
        d.run_once().await.expect("round"),
        0,
        "the lease still holds"
    );
    assert!(smtp.received().is_empty());

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(run_until_claimed(&d, Duration::from_secs(5)).await, 1);
    smtp.wait_for(1, WAIT).await;
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Sent);
    assert_eq!(row.attempts, 2, "the lost claim counted as an attempt");
    assert_eq!(row.lease_owner.as_deref(), Some(d.owner()));

    // The dead process, were it to wake up, can no longer change the row.
    let now = now_ms();
    assert!(
        !env.store
            .mark_mail_sent(&id, &crashed_owner, now)
            .await
            .expect("mark")
    );
    assert!(
        !env.store
            .reschedule_mail(&id, &crashed_owner, now, now, "late")
            .await
            .expect("reschedule")
    );
    assert!(
        !env.store
            .fail_mail(&id, &crashed_owner, now, "late")
            .await
            .expect("fail")
    );
    assert_eq!(env.row(&id).await.status, OutboxStatus::Sent);

    assert_eq!(d.run_once().await.expect("round"), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1, "sent exactly once");
}

async fn failed_after_max_attempts_then_retry_failed_delivers(backend: Backend) {
    let smtp = TestSmtp::start().await;
    smtp.stop().await;
    let settings = smtp_settings(
        smtp.port(),
        &[
            ("mail.dispatcher.max_attempts", json!(2)),
            ("mail.dispatcher.backoff_base_secs", json!(0)),
        ],
    );
    let env = MailEnv::new(backend, &settings).await;
    let id = env
        .enqueue(&verify_mail("chi@example.vn", "Phạm Chi", Lang::Vi))
        .await;
    let d = env.dispatcher();

    let first = d.round().await.expect("round");
    assert_eq!((first.claimed, first.retried), (1, 1));
    assert_eq!(env.row(&id).await.status, OutboxStatus::Queued);
    let second = d.round().await.expect("round");
    assert_eq!((second.claimed, second.failed), (1, 1));
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Failed);
    assert_eq!(row.attempts, 2);
    let error = row.last_error.clone().expect("last error kept");
    assert!(!error.is_empty());
    assert_eq!(
        d.run_once().await.expect("round"),
        0,
        "failed mail is not retried"
    );
    assert_eq!(env.store.outbox_counts().await.expect("counts").failed, 1);

    assert!(!env.store.retry_failed("no-such-id").await.expect("retry"));
    assert!(env.store.retry_failed(&id).await.expect("retry"));
    assert!(
        !env.store.retry_failed(&id).await.expect("retry"),
        "only failed mail can be retried"
    );
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Queued);
    assert_eq!(row.attempts, 0);
    assert_eq!(row.last_error.as_deref(), Some(error.as_str()));
    assert!(row.next_attempt_at <= now_ms());

    smtp.restart().await;
    assert_eq!(d.run_once().await.expect("round"), 1);
    smtp.wait_for(1, WAIT).await;
    let row = env.row(&id).await;
    assert_eq!(row.status, OutboxStatus::Sent);
    assert_eq!(row.attempts, 1);
    assert_eq!(row.last_error, None);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(smtp.received().len(), 1);
}

async fn permanent_refusal_fails_at_once(backend: Backend) {
    let smtp = TestSmtp::start().await;
    smtp.refuse("nobody@example.vn");
    let env = MailEnv::new(backend, &smtp_settings(smtp.port(), &[])).await;
    let refused = env
        .enqueue(&verify_mail("nobody@example.vn", "Không Ai", Lang::Vi))
        .await;
    let malformed = env
        .enqueue(&verify_mail("not an address", "Sai Địa Chỉ", Lang::Vi))
        .await;
    let fine = env
        .enqueue(&verify_mail("dung@example.vn", "Đỗ Dũng", Lang::Vi))
        .await;
    let round = env.dispatcher().round().await.expect("round");
    assert_eq!(
        (round.claimed, round.sent, round.failed),
        (3, 1, 2),
        "{round:?}"
    );
    for id in [&refused, &malformed] {
        let row = env.row(id).await;
        assert_eq!(row.status, OutboxStatus::Failed);
        assert_eq!(row.attempts, 1, "no retry after a permanent refusal");
        assert!(row.last_error.is_some());
    }
    assert!(
        env.row(&refused)
            .await
            .last_error
            .is_some_and(|e| e.contains("550")),
        "the server's reply is kept"
    );
    assert_eq!(env.row(&fine).await.status, OutboxStatus::Sent);
    let got = smtp.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["dung@example.vn".to_owned()]);
}

async fn rolled_back_enqueue_leaves_no_row(backend: Backend) {
    let env = MailEnv::new(backend, &[]).await;
    let mail = verify_mail("em@example.vn", "Hoàng Em", Lang::Vi);

    let mut tx = env.store.begin_write().await.expect("begin");
    let id = enqueue_mail(&mut tx, &mail).await.expect("enqueue");
    tx.rollback().await.expect("rollback");
    assert!(env.store.outbox_message(&id).await.expect("load").is_none());

    {
        let mut tx = env.store.begin_write().await.expect("begin");
        enqueue_mail(&mut tx, &mail).await.expect("enqueue");
        // Dropped without commit, as when the caller returns an error.
    }
    assert_eq!(env.store.outbox_counts().await.expect("counts").total(), 0);
    let (items, total) = env
        .store
        .list_outbox(&OutboxFilter {
            limit: 10,
            ..OutboxFilter::default()
        })
        .await
        .expect("list");
    assert!(items.is_empty());
    assert_eq!(total, 0);
    assert_eq!(env.dispatcher().run_once().await.expect("round"), 0);

    let id = env.enqueue(&mail).await;
    let counts = env.store.outbox_counts().await.expect("counts");
    assert_eq!((counts.queued, counts.total()), (1, 1));
    assert_eq!(env.row(&id).await.subject, mail.subject);
}

async fn file_transport_writes_parseable_eml(backend: Backend) {
    let env = MailEnv::new(backend, &[("mail.transport", json!("file"))]).await;
    let vi = verify_mail("giang@example.vn", "Vũ Hương Giang", Lang::Vi);
    let en = new_mail(
        "judge@example.com",
        None,
        Lang::En,
        &MailKind::JudgeInvitation {
            inviter: "Ban Tổ chức".to_owned(),
            url: "http://127.0.0.1:8080/judges/accept?t=1".to_owned(),
        },
        CONTEST_EN,
    );
    let ids = [env.enqueue(&vi).await, env.enqueue(&en).await];
    assert_eq!(env.dispatcher().run_once().await.expect("round"), 2);

    let dir = &env.config.mail.file_dir;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("mail folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = ids.iter().map(|id| format!("{id}.eml")).collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "one .eml per message and no temporary files"
    );

    for (id, sent) in ids.iter().zip([&vi, &en]) {
        let raw = std::fs::read(dir.join(format!("{id}.eml"))).expect("read .eml");
        let mail = parse_mail(&raw);
        let row = env.row(id).await;
        assert_eq!(row.status, OutboxStatus::Sent);
        assert_eq!(mail.subject(), sent.subject);
        assert_eq!(lf(&mail.text), lf(&sent.text));
        assert_eq!(lf(&mail.html), lf(&sent.html));
        assert_eq!(mail.header("To"), Some(sent.to_email.as_str()));
        assert_eq!(
            mail.message_id(),
            Some(format!("<{}@localhost>", row.message_id).as_str())
        );
        assert_eq!(mail.header("Content-Language"), Some(sent.lang.code()));
    }
    let vi_raw = std::fs::read(dir.join(format!("{}.eml", ids[0]))).expect("read");
    assert!(
        parse_mail(&vi_raw)
            .text
            .contains("Kính gửi Vũ Hương Giang,")
    );
}

async fn organizer_and_personal_views(backend: Backend) {
    let env = MailEnv::new(backend, &[("mail.transport", json!("file"))]).await;
    let url = "http://127.0.0.1:8080/x".to_owned();
    let mails = [
        new_mail(
            "An.Nguyen@Example.vn",
            Some("u1"),
            Lang::Vi,
            &MailKind::VerifyEmail {
                name: "An".to_owned(),
                url: url.clone(),
            },
            CONTEST_VI,
        ),
        new_mail(
            "binh@example.vn",
            Some("u2"),
            Lang::Vi,
            &MailKind::TeamInvitation {
                team: "Sao Mai".to_owned(),
                inviter: "An".to_owned(),
                url: url.clone(),
            },
            CONTEST_VI,
        ),
        new_mail(
            "judge_1@example.vn",
            None,
            Lang::En,
            &MailKind::JudgeInvitation {
                inviter: "BTC".to_owned(),
                url: url.clone(),
            },
            CONTEST_EN,
        ),
        new_mail(
            "an.nguyen@example.vn",
            Some("u1"),
            Lang::Vi,
            &MailKind::PasswordReset {
                name: "An".to_owned(),
                url,
            },
            CONTEST_VI,
        ),
    ];
    let mut ids = Vec::new();
    for m in &mails {
        ids.push(env.enqueue(m).await);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let list = |filter: OutboxFilter| {
        let store = env.store.clone();
        async move { store.list_outbox(&filter).await.expect("list") }
    };
    let all = |limit| OutboxFilter {
        limit,
        ..OutboxFilter::default()
    };

    let (items, total) = list(all(50)).await;
    assert_eq!(total, 4);
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(
        items.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        newest_first
    );

    let (items, total) = list(OutboxFilter {
        recipient: Some("AN.NGUYEN@".to_owned()),
        ..all(50)
    })
    .await;
    assert_eq!(total, 2, "recipient search ignores case");
    assert!(
        items
            .iter()
            .all(|r| r.to_email.to_lowercase().starts_with("an.nguyen@"))
    );
    let (_, total) = list(OutboxFilter {
        recipient: Some("_".to_owned()),
        ..all(50)
    })
    .await;
    assert_eq!(total, 1, "`_` is a character, not a wildcard");
    let (items, total) = list(OutboxFilter {
        kind: Some("team_invitation".to_owned()),
        ..all(50)
    })
    .await;
    assert_eq!((total, items[0].id.as_str()), (1, ids[1].as_str()));
    let (items, total) = list(OutboxFilter {
        status: Some(OutboxStatus::Queued),
        recipient: Some("example.vn".to_owned()),
        kind: Some("verify_email".to_owned()),
        ..all(50)
    })
    .await;
    assert_eq!((total, items.len()), (1, 1));

    let (page1, total) = list(all(3)).await;
    let (page2, _) = list(OutboxFilter {
        offset: 3,
        ..all(3)
    })
    .await;
    assert_eq!((total, page1.len(), page2.len()), (4, 3, 1));
    assert_eq!(page2[0].id, ids[0]);

    let history = env
        .store
        .notifications_for_user("u1", 10)
        .await
        .expect("history");
    assert_eq!(
        history.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        vec![ids[3].clone(), ids[0].clone()]
    );
    assert_eq!(history[0].kind, "password_reset");
    assert_eq!(history[0].lang, Lang::Vi);
    assert!(history[0].subject.starts_with("Đặt lại mật khẩu"));
    assert_eq!(
        env.store
            .notifications_for_user("u1", 1)
            .await
            .expect("history")
            .len(),
        1
    );
    assert!(
        env.store
            .notifications_for_user("nobody", 10)
            .await
            .expect("history")
            .is_empty()
    );

    let counts = env.store.outbox_counts().await.expect("counts");
    assert_eq!((counts.queued, counts.sent, counts.total()), (4, 0, 4));
    assert_eq!(env.dispatcher().run_once().await.expect("round"), 4);
    let counts = env.store.outbox_counts().await.expect("counts");
    assert_eq!((counts.queued, counts.sent), (0, 4));
    let (_, total) = list(OutboxFilter {
        status: Some(OutboxStatus::Sent),
        ..all(50)
    })
    .await;
    assert_eq!(total, 4);
}

async fn spawned_dispatcher_wakes_and_shuts_down(backend: Backend) {
    let smtp = TestSmtp::start().await;
    // A poll interval far longer than the test: only the nudge can make it send in time.
    let settings = smtp_settings(
        smtp.port(),
        &[("mail.dispatcher.poll_interval_ms", json!(600_000))],
    );
    let env = MailEnv::new(backend, &settings).await;
    let handle = Dispatcher::spawn(env.store.clone(), env.config.mail.clone()).expect("spawn");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let id = env
        .enqueue(&verify_mail("hai@example.vn", "Ngô Hải", Lang::Vi))
        .await;
    handle.notifier().notify_one();
    smtp.wait_for(1, Duration::from_secs(10)).await;
    // The server has the message; the dispatcher marks it sent right after the SMTP reply.
    let row = env.row_with_status(&id, OutboxStatus::Sent).await;
    assert_eq!(row.status, OutboxStatus::Sent);
    assert_eq!(row.lease_owner.as_deref(), Some(handle.owner()));

    let second = env
        .enqueue(&verify_mail("hai2@example.vn", "Ngô Hải", Lang::En))
        .await;
    handle.wake();
    smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(
        env.row_with_status(&second, OutboxStatus::Sent)
            .await
            .status,
        OutboxStatus::Sent
    );

    tokio::time::timeout(Duration::from_secs(5), handle.shutdown())
        .await
        .expect("shutdown is prompt");
    let third = env
        .enqueue(&verify_mail("hai3@example.vn", "Ngô Hải", Lang::Vi))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        env.row(&third).await.status,
        OutboxStatus::Queued,
        "a stopped dispatcher sends nothing"
    );
    assert_eq!(smtp.received().len(), 2);
}
