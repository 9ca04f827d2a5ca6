//! The circuit breaker of one downstream: pure state, time passed in, so every
//! transition is unit-tested without sleeping.

use std::time::{Duration, Instant};

/// Outcomes remembered to decide whether to open.
const WINDOW: u32 = 8;
/// The circuit opens when at least this many of the last `WINDOW` calls failed.
const FAILURES_TO_OPEN: u32 = WINDOW / 2;
/// How long an open circuit rejects calls before letting one trial through.
pub const OPEN_FOR: Duration = Duration::from_secs(2);

/// Where the breaker stands; the number is the value of the state gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

/// Whether a call may go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The circuit is closed.
    Allowed,
    /// The one trial call of a half-open circuit; its outcome decides the state.
    Trial,
    /// The circuit is open: answer with the fallback without calling.
    Rejected,
}

/// Fails fast on a downstream that keeps failing, so that requests get their fallback
/// at once instead of waiting for timeouts, and the downstream gets room to recover.
#[derive(Debug)]
pub struct Circuit {
    state: State,
    /// Outcomes of the last calls, newest in bit 0; a set bit is a failure.
    outcomes: u8,
    /// How many outcomes `outcomes` holds, up to `WINDOW`.
    recorded: u32,
    /// When the circuit opened, or when the current trial started.
    since: Instant,
    trial_running: bool,
}

impl Circuit {
    /// A closed circuit with an empty window.
    pub fn new(now: Instant) -> Self {
        Self {
            state: State::Closed,
            outcomes: 0,
            recorded: 0,
            since: now,
            trial_running: false,
        }
    }

    /// The state, for the gauge and for noticing transitions.
    pub fn state(&self) -> State {
        self.state
    }

    /// Decides whether a call may go out at `now`. An open circuit turns half-open after
    /// `OPEN_FOR`; a trial that never reported back (its request was dropped) is replaced
    /// by a new one after the same time.
    pub fn admit(&mut self, now: Instant) -> Admission {
        match self.state {
            State::Closed => Admission::Allowed,
            State::Open if now.saturating_duration_since(self.since) >= OPEN_FOR => {
                self.start_trial(State::HalfOpen, now)
            }
            State::HalfOpen
                if !self.trial_running || now.saturating_duration_since(self.since) >= OPEN_FOR =>
            {
                self.start_trial(State::HalfOpen, now)
            }
            State::Open | State::HalfOpen => Admission::Rejected,
        }
    }

    fn start_trial(&mut self, state: State, now: Instant) -> Admission {
        self.state = state;
        self.trial_running = true;
        self.since = now;
        Admission::Trial
    }

    /// Records the outcome of an admitted call; returns the new state when it changed.
    pub fn record(&mut self, admission: Admission, success: bool, now: Instant) -> Option<State> {
        let before = self.state;
        match (admission, self.state) {
            (Admission::Trial, State::HalfOpen) => {
                self.trial_running = false;
                if success {
                    self.state = State::Closed;
                    self.outcomes = 0;
                    self.recorded = 0;
                } else {
                    self.state = State::Open;
                    self.since = now;
                }
            }
            (Admission::Allowed, State::Closed) => {
                self.outcomes = (self.outcomes << 1) | u8::from(!success);
                self.recorded = (self.recorded + 1).min(WINDOW);
                if self.recorded == WINDOW && self.outcomes.count_ones() >= FAILURES_TO_OPEN {
                    self.state = State::Open;
                    self.since = now;
                }
            }
            // A call admitted before the last transition says nothing about the new state.
            _ => {}
        }
        (self.state != before).then_some(self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(circuit: &mut Circuit, outcomes: &[bool], now: Instant) -> Vec<State> {
        outcomes
            .iter()
            .filter_map(|&ok| {
                let admission = circuit.admit(now);
                circuit.record(admission, ok, now)
            })
            .collect()
    }

    #[test]
    fn stays_closed_below_half_failures_or_a_full_window() {
        let t = Instant::now();
        let mut c = Circuit::new(t);
        assert!(calls(
            &mut c,
            &[false, false, false, false, false, false, false],
            t
        )
        .is_empty());
        let mut c = Circuit::new(t);
        let three_of_eight = [true, false, true, false, true, false, true, true];
        assert!(calls(&mut c, &three_of_eight, t).is_empty());
        assert_eq!(c.state(), State::Closed);
    }

    #[test]
    fn opens_at_half_failures_over_eight_calls() {
        let t = Instant::now();
        let mut c = Circuit::new(t);
        let four_of_eight = [true, false, true, false, true, false, true, false];
        assert_eq!(calls(&mut c, &four_of_eight, t), vec![State::Open]);
        assert_eq!(
            c.admit(t + Duration::from_millis(1_999)),
            Admission::Rejected
        );
    }

    #[test]
    fn old_outcomes_leave_the_window() {
        let t = Instant::now();
        let mut c = Circuit::new(t);
        assert!(calls(
            &mut c,
            &[false, false, false, true, true, true, true, true],
            t
        )
        .is_empty());
        assert!(calls(&mut c, &[true, true, true], t).is_empty());
        assert_eq!(
            calls(&mut c, &[false, false, false, false], t),
            vec![State::Open]
        );
    }

    #[test]
    fn half_open_trial_success_closes() {
        let t = Instant::now();
        let mut c = Circuit::new(t);
        calls(&mut c, &[false; 8], t);
        let later = t + OPEN_FOR;
        assert_eq!(c.admit(later), Admission::Trial);
        assert_eq!(c.state(), State::HalfOpen);
        assert_eq!(c.admit(later), Admission::Rejected, "one trial at a time");
        assert_eq!(c.record(Admission::Trial, true, later), Some(State::Closed));
        assert_eq!(c.admit(later), Admission::Allowed);
        assert!(
            calls(&mut c, &[false; 7], later).is_empty(),
            "the window starts afresh"
        );
    }

    #[test]
    fn half_open_trial_failure_reopens() {
        let t = Instant::now();
        let mut c = Circuit::new(t);
        calls(&mut c, &[false; 8], t);
        let later = t + OPEN_FOR;
        assert_eq!(c.admit(later), Admission::Trial);
        assert_eq!(c.record(Admission::Trial, false, later), Some(State::Open));
        assert_eq!(c.admit(later + Duration::from_secs(1)), Admission::Rejected);
        assert_eq!(c.admit(later + OPEN_FOR), Admission::Trial);
    }

    #[test]
    fn a_lost_trial_is_replaced() {
        let t = Instant::now();
        let mut c = Circuit::new(t);
        calls(&mut c, &[false; 8], t);
        assert_eq!(c.admit(t + OPEN_FOR), Admission::Trial);
        assert_eq!(c.admit(t + OPEN_FOR * 2), Admission::Trial);
    }

    #[test]
    fn late_outcomes_of_older_calls_are_ignored() {
        let t = Instant::now();
        let mut c = Circuit::new(t);
        calls(&mut c, &[false; 8], t);
        assert_eq!(c.record(Admission::Allowed, true, t), None);
        assert_eq!(c.state(), State::Open);
    }
}
