//! Health checks: a check result shared for a while, so that however many probes ask
//! for readiness, the dependencies are asked at most once per interval.

use std::{future::Future, time::Duration};

use tokio::{sync::Mutex, time::Instant};

/// The result of a check, computed at most once per `interval`. Callers arriving while
/// a check runs wait for it and share its result instead of starting their own.
#[derive(Debug)]
pub struct Cached<T> {
    interval: Duration,
    last: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> Cached<T> {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Mutex::new(None),
        }
    }

    /// The last result if it is younger than the interval, else the result of `check`.
    pub async fn get<F: Future<Output = T>>(&self, check: impl FnOnce() -> F) -> T {
        // Held across the check: callers queue behind it and find its result fresh.
        let mut last = self.last.lock().await;
        if let Some((at, result)) = &*last {
            if at.elapsed() < self.interval {
                return result.clone();
            }
        }
        let result = check().await;
        *last = Some((Instant::now(), result.clone()));
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering::Relaxed},
        Arc,
    };

    use super::*;

    /// A check that takes 100 ms and counts its runs.
    async fn check(runs: &AtomicUsize) -> usize {
        tokio::time::sleep(Duration::from_millis(100)).await;
        runs.fetch_add(1, Relaxed) + 1
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_check() {
        let cached = Arc::new(Cached::new(Duration::from_secs(1)));
        let runs = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..100)
            .map(|_| {
                let (cached, runs) = (cached.clone(), runs.clone());
                tokio::spawn(async move { cached.get(|| check(&runs)).await })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.ok(), Some(1));
        }
        assert_eq!(runs.load(Relaxed), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_result_is_reused_within_the_interval_and_renewed_after() {
        let cached = Cached::new(Duration::from_secs(1));
        let runs = AtomicUsize::new(0);
        assert_eq!(cached.get(|| check(&runs)).await, 1);
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(cached.get(|| check(&runs)).await, 1);
        tokio::time::advance(Duration::from_millis(600)).await;
        assert_eq!(cached.get(|| check(&runs)).await, 2);
    }
}
