//! The dispatcher: takes due messages from the outbox and sends them, any number of dispatchers
//! (tasks or processes) on one database.
//!
//! **One round** (`Dispatcher::run_once`): claim up to `batch_size` messages under a lease of
//! `lease_secs` (a claim counts as an attempt), send them one by one, and mark each `sent`, or
//! back to `queued` after `backoff_base_secs * 2^(attempts - 1)` seconds (at most
//! `max_backoff_secs`), or `failed` once `max_attempts` attempts have failed or the server
//! refused the message for good (a 5xx reply, a malformed address). Every mark is guarded by the
//! dispatcher's owner id, so a dispatcher that lost its lease changes nothing. When half the
//! lease has passed during a round, the leases still held are renewed, and messages whose lease
//! was lost are skipped. A dispatcher asked to stop gives its unsent claims back at once.
//!
//! **Crashes.** A message claimed by a process that then died stays `sending` until its lease
//! expires; the next round of any dispatcher claims it again. Nothing is lost.
//!
//! **Exactly once, honestly.** The outbox row commits with the change that causes it, so a
//! message exists exactly when its cause does, and two dispatchers never hold the same message at
//! once. Delivery, though, cannot be exactly-once over SMTP: if the process dies (or its database
//! write fails) after the server accepted a message and before the `sent` mark, the message is
//! sent again when its lease expires. The window is that one message. Every copy carries the same
//! stored `Message-ID`, so receivers can de-duplicate. The same holds when a send outlasts the
//! lease; keep `lease_secs` well above `mail.smtp.timeout_secs` (lettre's timeout is per SMTP
//! command). Leases compare the clocks of the dispatchers' hosts: keep them in sync.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::MailError;
use super::transport::{SendError, Transport};
use crate::config::{DispatcherConfig, MailConfig};
use crate::service::now_ms;
use crate::store::outbox::OutboxRow;
use crate::store::{Store, StoreResult, new_id};

/// Seconds to wait before the next attempt, after `attempts` failed ones:
/// `base * 2^(attempts - 1)`, capped at `max`.
pub fn backoff_secs(base: u64, max: u64, attempts: i64) -> u64 {
    let exponent = u32::try_from(attempts.saturating_sub(1).max(0)).unwrap_or(u32::MAX);
    let factor = 2u64.checked_pow(exponent).unwrap_or(u64::MAX);
    base.saturating_mul(factor).min(max)
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Claims given back untried because the dispatcher is stopping.
    pub released: usize,
    /// Claims skipped because their lease ran out during the round.
    pub lost: usize,
}

/// Sends the outbox. Build one per task; each has its own owner id.
#[derive(Debug)]
pub struct Dispatcher {
    store: Store,
    config: DispatcherConfig,
    transport: Transport,
    owner: String,
    wake: Arc<Notify>,
    stopping: Arc<AtomicBool>,
}

impl Dispatcher {
    /// A dispatcher for `[mail]`, with a fresh owner id. Nothing runs until `run_once` or
    /// `start`.
    pub fn new(store: Store, config: &MailConfig) -> Result<Dispatcher, MailError> {
        let transport = Transport::from_config(config)?;
        let d = &config.dispatcher;
        if config.transport == crate::config::MailTransport::Smtp
            && d.lease_secs < config.smtp.timeout_secs.saturating_mul(3)
        {
            tracing::warn!(
                lease_secs = d.lease_secs,
                timeout_secs = config.smtp.timeout_secs,
                "mail.dispatcher.lease_secs is short next to mail.smtp.timeout_secs: a slow send \
                 may outlast its lease and be sent twice"
            );
        }
        Ok(Dispatcher {
            store,
            config: d.clone(),
            transport,
            owner: format!("{}-{}", std::process::id(), new_id()),
            wake: Arc::new(Notify::new()),
            stopping: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Builds a dispatcher and starts its task.
    pub fn spawn(store: Store, config: MailConfig) -> Result<DispatcherHandle, MailError> {
        Ok(Dispatcher::new(store, &config)?.start())
    }

    /// This dispatcher's owner id, written into the rows it claims.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Notify it (`notify_one`) after committing mail so the dispatcher does not wait for its
    /// next poll.
    pub fn notifier(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    fn lease_ms(&self) -> i64 {
        secs_to_ms(self.config.lease_secs.max(1))
    }

    /// One round: claims what is due and sends it. Returns how many messages were claimed (each
    /// one was then sent, rescheduled, failed, or given back).
    pub async fn run_once(&self) -> Result<usize, MailError> {
        Ok(self.round().await?.claimed)
    }

    /// One round, with what happened to each claimed message.
    pub async fn round(&self) -> Result<Round, MailError> {
        let lease_ms = self.lease_ms();
        let now = now_ms();
        let batch = self
            .store
            .claim_mail(
                &self.owner,
                now,
                lease_ms,
                i64::from(self.config.batch_size.max(1)),
            )
            .await?;
        let mut round = Round {
            claimed: batch.len(),
            ..Round::default()
        };
        let mut held_until = now.saturating_add(lease_ms);
        let mut held: Option<HashSet<String>> = None;
        let mut rows = batch.into_iter();
        while let Some(row) = rows.next() {
            if self.stopping.load(Ordering::SeqCst) {
                for row in std::iter::once(row).chain(rows.by_ref()) {
                    if self
                        .store
                        .release_mail(&row.id, &self.owner, now_ms())
                        .await?
                    {
                        round.released += 1;
                    }
                }
                break;
            }
            let now = now_ms();
            if held_until.saturating_sub(now) < lease_ms / 2 {
                let until = now.saturating_add(lease_ms);
                let ids = self
                    .store
                    .renew_mail_leases(&self.owner, now, until)
                    .await?;
                held = Some(ids.into_iter().collect());
                held_until = until;
            }
            if held.as_ref().is_some_and(|ids| !ids.contains(&row.id)) {
                tracing::warn!(outbox_id = %row.id, "mail lease ran out before sending; skipped");
                round.lost += 1;
                continue;
            }
            self.deliver(&row, &mut round).await?;
        }
        Ok(round)
    }

    async fn deliver(&self, row: &OutboxRow, round: &mut Round) -> StoreResult<()> {
        let result = self.transport.send(row).await;
        let now = now_ms();
        let max_attempts = i64::from(self.config.max_attempts.max(1));
        match result {
            Ok(()) => {
                round.sent += 1;
                if self.mark_sent(&row.id, now).await? {
                    tracing::info!(outbox_id = %row.id, kind = %row.kind, attempts = row.attempts, "mail sent");
                } else {
                    tracing::warn!(
                        outbox_id = %row.id,
                        "mail sent after its lease was lost; another dispatcher may send it too"
                    );
                }
            }
            Err(SendError { permanent, message }) if permanent || row.attempts >= max_attempts => {
                round.failed += 1;
                self.store
                    .fail_mail(&row.id, &self.owner, now, &message)
                    .await?;
                tracing::warn!(outbox_id = %row.id, kind = %row.kind, attempts = row.attempts, permanent, error = %message, "mail failed for good");
            }
            Err(SendError { message, .. }) => {
                round.retried += 1;
                let delay = backoff_secs(
                    self.config.backoff_base_secs,
                    self.config.max_backoff_secs,
                    row.attempts,
                );
                let next = now.saturating_add(secs_to_ms(delay));
                self.store
                    .reschedule_mail(&row.id, &self.owner, now, next, &message)
                    .await?;
                tracing::warn!(outbox_id = %row.id, kind = %row.kind, attempts = row.attempts, retry_in_secs = delay, error = %message, "mail not sent; will retry");
            }
        }
        Ok(())
    }

    /// The `sent` mark, tried a few times: missing it means sending the message again later.
    async fn mark_sent(&self, id: &str, now: i64) -> StoreResult<bool> {
        let mut pause = Duration::from_millis(200);
        for _ in 0..3 {
            match self.store.mark_mail_sent(id, &self.owner, now).await {
                Ok(marked) => return Ok(marked),
                Err(e) => {
                    tracing::error!(outbox_id = %id, error = %e, "cannot mark mail sent; retrying");
                    tokio::time::sleep(pause).await;
                    pause *= 4;
                }
            }
        }
        self.store.mark_mail_sent(id, &self.owner, now).await
    }

    /// Runs rounds in a task until the handle shuts it down: at once while full batches keep
    /// going out, otherwise after `poll_interval_ms` or a nudge through `notifier`.
    pub fn start(self) -> DispatcherHandle {
        let stop = Arc::new(Notify::new());
        let owner = self.owner.clone();
        let wake = Arc::clone(&self.wake);
        let stopping = Arc::clone(&self.stopping);
        let task = tokio::spawn(self.run(Arc::clone(&stop)));
        DispatcherHandle {
            owner,
            wake,
            stop,
            stopping,
            task: Some(task),
        }
    }

    async fn run(self, stop: Arc<Notify>) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        let batch = usize::try_from(self.config.batch_size.max(1)).unwrap_or(usize::MAX);
        // After failed rounds (the database is away), wait longer each time, up to a minute.
        let mut failures: u32 = 0;
        tracing::info!(owner = %self.owner, "mail dispatcher started");
        while !self.stopping.load(Ordering::SeqCst) {
            let again = match self.round().await {
                Ok(r) => {
                    failures = 0;
                    r.claimed >= batch && r.sent == r.claimed
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::error!(error = %e, failures, "mail dispatcher round failed");
                    false
                }
            };
            if again || self.stopping.load(Ordering::SeqCst) {
                continue;
            }
            let pause = if failures == 0 {
                poll
            } else {
                poll.saturating_mul(2u32.saturating_pow(failures.min(16)))
                    .min(Duration::from_secs(60).max(poll))
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = stop.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(owner = %self.owner, "mail dispatcher stopped");
    }
}

/// A running dispatcher. Dropping the handle leaves the task running; `shutdown` stops it.
#[derive(Debug)]
pub struct DispatcherHandle {
    owner: String,
    wake: Arc<Notify>,
    stop: Arc<Notify>,
    stopping: Arc<AtomicBool>,
    task: Option<JoinHandle<()>>,
}

impl DispatcherHandle {
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Starts a round now (or right after the current one).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// For enqueuers: `notify_one()` on it after committing mail.
    pub fn notifier(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Stops after the message being sent, if any; the rest of the round's claims are given back.
    pub async fn shutdown(mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop.notify_one();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Like `shutdown`, but aborts the task after `grace`; returns whether it stopped in time.
    /// A message aborted mid-send is recovered when its lease expires.
    pub async fn shutdown_within(mut self, grace: Duration) -> bool {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop.notify_one();
        let Some(mut task) = self.task.take() else {
            return true;
        };
        match tokio::time::timeout(grace, &mut task).await {
            Ok(_) => true,
            Err(_) => {
                task.abort();
                let _ = task.await;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        assert_eq!(backoff_secs(5, 3600, 1), 5);
        assert_eq!(backoff_secs(5, 3600, 2), 10);
        assert_eq!(backoff_secs(5, 3600, 3), 20);
        assert_eq!(backoff_secs(5, 3600, 10), 2560);
        assert_eq!(backoff_secs(5, 3600, 11), 3600);
        assert_eq!(backoff_secs(5, 3600, 1000), 3600);
        assert_eq!(backoff_secs(5, 3600, i64::MAX), 3600);
        assert_eq!(backoff_secs(u64::MAX, u64::MAX, 64), u64::MAX);
    }

    #[test]
    fn backoff_before_any_failure_is_the_base() {
        assert_eq!(backoff_secs(5, 3600, 0), 5);
        assert_eq!(backoff_secs(5, 3600, -3), 5);
        assert_eq!(backoff_secs(0, 3600, 7), 0);
        assert_eq!(backoff_secs(100, 30, 1), 30);
    }

    #[test]
    fn lease_and_backoff_milliseconds_saturate() {
        assert_eq!(secs_to_ms(2), 2000);
        assert_eq!(secs_to_ms(u64::MAX), i64::MAX);
    }
}
