//! The retries the operation reports (every request it sends again: the
//! start, a poll, the result fetch, a cancel request), kept until the
//! reporter shows them.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use lro_poller::RetryNotice;

use crate::report::Reporter;

/// The retries told and not shown yet.
#[derive(Clone, Default)]
pub struct Retries(Arc<Mutex<Vec<RetryNotice>>>);

impl Retries {
    /// The callback for [`lro_poller::OperationBuilder::on_retry`].
    pub fn hook(&self) -> impl Fn(&RetryNotice) + Send + Sync + 'static {
        let kept = Arc::clone(&self.0);
        move |notice| {
            kept.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(notice.clone());
        }
    }

    /// Shows the retries told so far.
    pub fn show(&self, reporter: &mut Reporter) {
        let told = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for notice in &told {
            reporter.retry(notice);
        }
    }

    /// `future`'s output, showing the retries as they are told.
    pub async fn showing<F: Future>(&self, future: F, reporter: &mut Reporter) -> F::Output {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| {
            let polled = future.as_mut().poll(cx);
            self.show(reporter);
            match polled {
                Poll::Ready(output) => Poll::Ready(output),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }
}
