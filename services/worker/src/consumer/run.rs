//! Running one claimed job: dispatching on its kind, heartbeating while it runs,
//! and recording how it ended (success is the runner's; failure, retry, burial
//! and hand-back are recorded here), which decides whether its entry is acknowledged.

use std::time::{Duration, Instant};

use shared_domain::db::DbError;
use shared_domain::db::jobs::{self, AfterFailure, FinishError, Lease};
use shared_domain::domain::JobKind;
use shared_domain::error::error_chain;
use shared_domain::queue::dead_letter;
use shared_domain::stream::JobMessage;
use tokio::sync::watch;
use tracing::Instrument;

use super::{Consumer, Settled, backoff_delay};
use crate::pipeline::{PipelineError, Progress};

impl Consumer {
    /// Run one claimed job in its span; how its entry is to be settled.
    pub(super) async fn handle(
        &self,
        entry_id: &str,
        message: &JobMessage,
        lease: &Lease,
        hand_back: watch::Receiver<bool>,
    ) -> Settled {
        let span = tracing::info_span!("job", job_id = %message.job_id, book_id = %message.book_id, entry_id = %entry_id);
        if let Some(tp) = &message.traceparent {
            shared_domain::telemetry::set_remote_parent(&span, tp);
        }
        async {
            let lag = (chrono::Utc::now() - message.enqueued_at).to_std().unwrap_or_default();
            metrics::histogram!("queue_start_lag_seconds").record(lag.as_secs_f64());
            tracing::info!(job_id = %lease.job.id, attempt = lease.attempt, "processing your book | book_id={}", lease.job.book_id);
            self.run_job(message.kind, lease, entry_id, hand_back).await
        }
        .instrument(span)
        .await
    }

    pub(super) async fn run_job(
        &self,
        kind: JobKind,
        lease: &Lease,
        entry_id: &str,
        mut hand_back: watch::Receiver<bool>,
    ) -> Settled {
        let progress = Progress::default();
        let started = Instant::now();
        // Dispatch on what the message asks for; a new kind must be handled here to compile.
        let work = match kind {
            JobKind::ProcessBook => self.pipeline.run(lease, &progress),
        };
        let outcome = tokio::select! {
            r = work => Some(r),
            () = self.heartbeat(lease, entry_id, &progress) => Some(Err(PipelineError::LostLease)),
            _ = hand_back.wait_for(|v| *v) => None,
        };
        let elapsed = started.elapsed().as_secs_f64();
        let Some(outcome) = outcome else {
            return self.hand_back(lease).await;
        };
        match outcome {
            Ok(done) => {
                metrics::counter!("jobs_total", "outcome" => "succeeded").increment(1);
                metrics::histogram!("job_seconds").record(elapsed);
                tracing::info!(pages = done.pages, chunks = done.chunks, engine = %done.engine, seconds = elapsed, "job succeeded");
                Settled::Done
            }
            Err(PipelineError::LostLease) => {
                tracing::warn!(
                    "lost the job to another worker (heartbeat expired); abandoning this run"
                );
                metrics::counter!("jobs_total", "outcome" => "lost").increment(1);
                Settled::Leave
            }
            Err(PipelineError::Permanent(e)) => {
                let mut client = match self.db.get().await {
                    Ok(c) => c,
                    Err(err) => return self.unrecorded(&DbError::from(err)),
                };
                match jobs::fail(&mut client, lease, e.code, &e.message).await {
                    Ok(()) => {
                        metrics::counter!("jobs_total", "outcome" => "failed").increment(1);
                        tracing::info!(code = %e.code, reason = %e.message, "book failed");
                        Settled::Done
                    }
                    Err(FinishError::LostLease(_)) => Settled::Leave,
                    Err(FinishError::Db(err)) => self.unrecorded(&err),
                }
            }
            Err(e @ PipelineError::Transient { .. }) => self.retry_later(lease, &e).await,
        }
    }

    pub(super) async fn retry_later(&self, lease: &Lease, error: &PipelineError) -> Settled {
        let backoff = backoff_delay(&self.config, lease.attempt);
        let mut client = match self.db.get().await {
            Ok(c) => c,
            Err(err) => return self.unrecorded(&DbError::from(err)),
        };
        let reason = error_chain(error);
        match jobs::retry_later(&mut client, lease, &reason, backoff.as_secs_f64()).await {
            Ok(AfterFailure::Retrying { run_after }) => {
                metrics::counter!("jobs_total", "outcome" => "retrying").increment(1);
                tracing::warn!(error = %reason, attempt = lease.attempt, %run_after, "transient failure; will retry");
                Settled::Done
            }
            Ok(AfterFailure::Dead) => {
                metrics::counter!("jobs_total", "outcome" => "dead").increment(1);
                tracing::error!(error = %reason, attempts = lease.attempt, "out of attempts; the job is dead");
                dead_letter(&self.redis, &self.db, &lease.job, &reason, lease.attempt).await;
                Settled::Done
            }
            Err(FinishError::LostLease(_)) => Settled::Leave,
            Err(FinishError::Db(err)) => self.unrecorded(&err),
        }
    }

    pub(super) fn unrecorded(&self, e: &DbError) -> Settled {
        tracing::warn!(error = %error_chain(e), "cannot record the outcome; the job will be retried after the visibility timeout");
        Settled::Leave
    }

    /// Shutdown: give the job back to the queue without counting the attempt, and
    /// publish it so another worker starts it now.
    pub(super) async fn hand_back(&self, lease: &Lease) -> Settled {
        let client = match self.db.get().await {
            Ok(c) => c,
            Err(err) => return self.unrecorded(&DbError::from(err)),
        };
        match jobs::hand_back(&client, lease).await {
            Ok(Some(job)) => {
                tracing::info!("handed the job back for another worker");
                metrics::counter!("jobs_total", "outcome" => "handed_back").increment(1);
                if let Err(e) = shared_domain::queue::publish(&self.db, &self.redis, &job).await {
                    tracing::warn!(error = %error_chain(&e), "could not republish the handed-back job; the sweeper will");
                }
                Settled::Done
            }
            Ok(None) => Settled::Leave,
            Err(e) => self.unrecorded(&e),
        }
    }

    /// Until the lease is lost: heartbeat in Postgres (with progress) every couple of
    /// seconds, and reset the entry's idle time at a third of the visibility timeout.
    pub(super) async fn heartbeat(&self, lease: &Lease, entry_id: &str, progress: &Progress) {
        let claim_every = self.config.visibility_timeout / 3;
        let tick = claim_every.min(Duration::from_secs(2));
        let mut last_claim = Instant::now();
        let mut last_progress = None;
        loop {
            tokio::time::sleep(tick).await;
            let now_progress = progress.get();
            let due = last_claim.elapsed() >= claim_every;
            if !due && now_progress == last_progress {
                continue;
            }
            match self.db.get().await.map_err(DbError::from) {
                Ok(client) => match jobs::heartbeat(&client, lease, now_progress).await {
                    Ok(true) => last_progress = now_progress,
                    Ok(false) => return,
                    Err(e) => tracing::warn!(error = %error_chain(&e), "heartbeat not recorded"),
                },
                Err(e) => tracing::warn!(error = %error_chain(&e), "heartbeat not recorded"),
            }
            if due {
                last_claim = Instant::now();
                if let Err(e) = self.stream().touch(&self.name, entry_id).await {
                    tracing::warn!(error = %error_chain(&e), "could not refresh the stream entry");
                }
            }
        }
    }
}
