//! The two-factor wizard: turn on, replace the authenticator, new backup codes, turn off, each
//! with "Confirm it's you" when the server asks for a fresh check.
//!
//! ```text
//! enable / replace:  Working ─SetupBegun→ Scan ⇄ Verify ─SetupConfirmed→ SaveCodes ─Finished→ leave
//!                                                        (replace: leave at once)
//! regenerate:        ConfirmRegenerate ─Confirmed→ (run) ─CodesIssued→ SaveCodes ─Finished→ leave
//! disable:           ConfirmDisable ─Confirmed→ (run) ─TurnedOff→ leave
//! any server call:   ─StepUpRequired→ StepUp ─StepUpPassed→ the call again (from Working, or
//!                     Verify for a code waiting to be confirmed)
//! ```

use crate::api::two_factor::{BackupCodeSet, SetupConfirmed, SignedOutElsewhere, TotpSetup};
use crate::error::StepUpProof;
use crate::routes::{Notice, WizardAction};
use crate::validation::OtpCode;

/// What the wizard shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Panel {
    /// Waiting for the server's first answer.
    Working,
    /// "Confirm it's you", asking for this proof.
    StepUp(StepUpProof),
    Scan(TotpSetup),
    Verify(TotpSetup),
    SaveCodes(BackupCodeSet),
    ConfirmRegenerate,
    ConfirmDisable,
}

/// Something that happened: the person did something, or the server answered.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The page became interactive.
    Opened,
    /// The person confirmed the destructive action in its dialog.
    Confirmed,
    /// The server prepared a new authenticator secret.
    SetupBegun(TotpSetup),
    /// "Next" under the QR code.
    Scanned,
    /// "Back" at the verify step.
    BackToScan,
    /// A well-formed code submitted at the verify step.
    CodeEntered(OtpCode),
    /// The server accepted the code.
    SetupConfirmed(SetupConfirmed),
    /// The server made new backup codes.
    CodesIssued(BackupCodeSet),
    /// The server turned two-factor off.
    TurnedOff(SignedOutElsewhere),
    /// The server wants "Confirm it's you" before the call just made.
    StepUpRequired(StepUpProof),
    /// "Confirm it's you" passed.
    StepUpPassed,
    /// "Done" after the backup codes.
    Finished,
    /// Cancel, from any panel.
    Cancelled,
}

/// What the island does after a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Nothing: show the panel.
    Nothing,
    /// Run the wizard's action on the server: begin a setup, make new codes, or turn off.
    Run(WizardAction),
    /// Send the code that confirms the new authenticator.
    ConfirmSetup { factor_id: String, code: OtpCode },
    /// Discard the pending authenticator, then go back to the Security page.
    CancelSetup,
    /// Back to the Security page, saying what happened (if anything did).
    Leave(Option<Notice>),
}

/// The server call to make again once "Confirm it's you" has passed: the action from the
/// start, or the code the person was verifying (the check can run out while they scan).
#[derive(Clone, Debug, PartialEq)]
enum Pending {
    Run,
    Confirm { setup: TotpSetup, code: OtpCode },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Wizard {
    intent: WizardAction,
    panel: Panel,
    pending: Pending,
    /// What turning on or replacing ended elsewhere, said when the wizard finishes.
    signed_out: SignedOutElsewhere,
}

impl Wizard {
    /// Destructive actions wait for a click in the page: a link alone never voids codes.
    pub fn start(intent: WizardAction) -> Wizard {
        let panel = match intent {
            WizardAction::Enable | WizardAction::Replace => Panel::Working,
            WizardAction::Regenerate => Panel::ConfirmRegenerate,
            WizardAction::Disable => Panel::ConfirmDisable,
        };
        Wizard {
            intent,
            panel,
            pending: Pending::Run,
            signed_out: SignedOutElsewhere::default(),
        }
    }

    pub fn intent(&self) -> WizardAction {
        self.intent
    }

    pub fn panel(&self) -> &Panel {
        &self.panel
    }

    /// The steps of this wizard's progress indicator, as indexes into them: scan, verify,
    /// save codes (a replacement has no codes step; new codes are only that step).
    pub fn step_count(&self) -> usize {
        match self.intent {
            WizardAction::Enable => 3,
            WizardAction::Replace => 2,
            WizardAction::Regenerate => 1,
            WizardAction::Disable => 0,
        }
    }

    /// Which step of the progress indicator the panel is, if it is one.
    pub fn current_step(&self) -> Option<usize> {
        match self.panel {
            Panel::Scan(_) => Some(0),
            Panel::Verify(_) => Some(1),
            Panel::SaveCodes(_) => Some(self.step_count().saturating_sub(1)),
            Panel::Working
            | Panel::StepUp(_)
            | Panel::ConfirmRegenerate
            | Panel::ConfirmDisable => None,
        }
    }

    fn show(self, panel: Panel) -> (Wizard, Command) {
        (Wizard { panel, ..self }, Command::Nothing)
    }

    fn run(self) -> (Wizard, Command) {
        let intent = self.intent;
        (
            Wizard {
                pending: Pending::Run,
                ..self
            },
            Command::Run(intent),
        )
    }

    /// The one transition function. An event that does not fit the panel (a late answer, a
    /// double click) changes nothing.
    pub fn next(self, event: Event) -> (Wizard, Command) {
        match (&self.panel, event) {
            (Panel::Working, Event::Opened)
                if matches!(self.intent, WizardAction::Enable | WizardAction::Replace) =>
            {
                self.run()
            }
            (Panel::ConfirmRegenerate | Panel::ConfirmDisable, Event::Confirmed) => self.run(),
            (Panel::Working, Event::SetupBegun(setup)) => self.show(Panel::Scan(setup)),
            (Panel::Scan(setup), Event::Scanned) => {
                let setup = setup.clone();
                self.show(Panel::Verify(setup))
            }
            (Panel::Verify(setup), Event::BackToScan) => {
                let setup = setup.clone();
                self.show(Panel::Scan(setup))
            }
            (Panel::Verify(setup), Event::CodeEntered(code)) => {
                let setup = setup.clone();
                let command = Command::ConfirmSetup {
                    factor_id: setup.factor_id.clone(),
                    code: code.clone(),
                };
                let wizard = Wizard {
                    pending: Pending::Confirm { setup, code },
                    ..self
                };
                (wizard, command)
            }
            (Panel::Verify(_), Event::SetupConfirmed(confirmed)) => {
                let wizard = Wizard {
                    signed_out: confirmed.signed_out,
                    ..self
                };
                match confirmed.backup_codes {
                    Some(codes) => wizard.show(Panel::SaveCodes(codes)),
                    None => (
                        wizard,
                        Command::Leave(Some(Notice::AuthenticatorReplaced(confirmed.signed_out))),
                    ),
                }
            }
            (Panel::ConfirmRegenerate | Panel::Working, Event::CodesIssued(codes))
                if self.intent == WizardAction::Regenerate =>
            {
                self.show(Panel::SaveCodes(codes))
            }
            (Panel::ConfirmDisable | Panel::Working, Event::TurnedOff(ended))
                if self.intent == WizardAction::Disable =>
            {
                (self, Command::Leave(Some(Notice::TwoFactorOff(ended))))
            }
            (_, Event::StepUpRequired(proof)) => self.show(Panel::StepUp(proof)),
            (Panel::StepUp(_), Event::StepUpPassed) => match self.pending.clone() {
                // The prompt goes away while the action runs: a second "Confirm" cannot run
                // it twice (twice "new backup codes" would void the set being shown).
                Pending::Run => self.show(Panel::Working).0.run(),
                Pending::Confirm { setup, code } => {
                    let command = Command::ConfirmSetup {
                        factor_id: setup.factor_id.clone(),
                        code,
                    };
                    (self.show(Panel::Verify(setup)).0, command)
                }
            },
            (Panel::SaveCodes(_), Event::Finished) => {
                let notice = if self.intent == WizardAction::Enable {
                    Notice::TwoFactorOn(self.signed_out)
                } else {
                    Notice::BackupCodesRegenerated
                };
                (self, Command::Leave(Some(notice)))
            }
            // A pending authenticator is discarded when the person leaves its steps.
            (Panel::Scan(_) | Panel::Verify(_), Event::Cancelled) => (self, Command::CancelSetup),
            (_, Event::Cancelled) => (self, Command::Leave(None)),
            (_, _) => (self, Command::Nothing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> TotpSetup {
        crate::fixtures::totp_setup(false)
    }

    fn codes() -> BackupCodeSet {
        crate::fixtures::backup_codes()
    }

    fn code(digits: &str) -> OtpCode {
        OtpCode::parse(digits).unwrap_or_else(|_| panic!("{digits} is a code"))
    }

    fn ended(other_sessions: u64) -> SignedOutElsewhere {
        SignedOutElsewhere {
            other_sessions,
            trusted_browsers: 1,
        }
    }

    /// Feeds the events in turn; returns the wizard and every command it gave.
    fn play(intent: WizardAction, events: Vec<Event>) -> (Wizard, Vec<Command>) {
        let mut wizard = Wizard::start(intent);
        let mut commands = Vec::new();
        for event in events {
            let (next, command) = wizard.next(event);
            wizard = next;
            commands.push(command);
        }
        (wizard, commands)
    }

    #[test]
    fn turning_on_goes_scan_verify_codes_and_says_what_was_signed_out() {
        let (wizard, commands) = play(
            WizardAction::Enable,
            vec![
                Event::Opened,
                Event::SetupBegun(setup()),
                Event::Scanned,
                Event::CodeEntered(code("123456")),
                Event::SetupConfirmed(SetupConfirmed {
                    backup_codes: Some(codes()),
                    signed_out: ended(2),
                }),
            ],
        );
        assert_eq!(wizard.panel(), &Panel::SaveCodes(codes()));
        assert_eq!(wizard.current_step(), Some(2));
        assert_eq!(
            commands,
            vec![
                Command::Run(WizardAction::Enable),
                Command::Nothing,
                Command::Nothing,
                Command::ConfirmSetup {
                    factor_id: setup().factor_id,
                    code: code("123456")
                },
                Command::Nothing,
            ]
        );
        let (_, command) = wizard.next(Event::Finished);
        assert_eq!(command, Command::Leave(Some(Notice::TwoFactorOn(ended(2)))));
    }

    #[test]
    fn progress_follows_the_panel() {
        let wizard = Wizard::start(WizardAction::Enable);
        assert_eq!((wizard.step_count(), wizard.current_step()), (3, None));
        let (wizard, _) = wizard.next(Event::SetupBegun(setup()));
        assert_eq!(wizard.current_step(), Some(0));
        let (wizard, _) = wizard.next(Event::Scanned);
        assert_eq!(wizard.current_step(), Some(1));
        let (wizard, _) = wizard.next(Event::BackToScan);
        assert_eq!(wizard.panel(), &Panel::Scan(setup()));
    }

    #[test]
    fn a_replacement_leaves_once_verified_with_no_codes_step() {
        let (wizard, commands) = play(
            WizardAction::Replace,
            vec![
                Event::Opened,
                Event::SetupBegun(setup()),
                Event::Scanned,
                Event::CodeEntered(code("654321")),
                Event::SetupConfirmed(SetupConfirmed {
                    backup_codes: None,
                    signed_out: ended(1),
                }),
            ],
        );
        assert_eq!(wizard.step_count(), 2);
        assert_eq!(
            commands.last(),
            Some(&Command::Leave(Some(Notice::AuthenticatorReplaced(ended(
                1
            )))))
        );
    }

    #[test]
    fn destructive_actions_wait_for_the_dialog() {
        for intent in [WizardAction::Regenerate, WizardAction::Disable] {
            let wizard = Wizard::start(intent);
            let (wizard, command) = wizard.next(Event::Opened);
            assert_eq!(command, Command::Nothing, "{intent:?} ran on opening");
            let (_, command) = wizard.next(Event::Confirmed);
            assert_eq!(command, Command::Run(intent));
        }
    }

    #[test]
    fn new_codes_are_shown_then_said() {
        let (wizard, _) = play(
            WizardAction::Regenerate,
            vec![Event::Confirmed, Event::CodesIssued(codes())],
        );
        assert_eq!(wizard.panel(), &Panel::SaveCodes(codes()));
        assert_eq!(wizard.current_step(), Some(0));
        let (_, command) = wizard.next(Event::Finished);
        assert_eq!(
            command,
            Command::Leave(Some(Notice::BackupCodesRegenerated))
        );
    }

    #[test]
    fn turning_off_leaves_saying_what_was_signed_out() {
        let (_, commands) = play(
            WizardAction::Disable,
            vec![Event::Confirmed, Event::TurnedOff(ended(3))],
        );
        assert_eq!(
            commands,
            vec![
                Command::Run(WizardAction::Disable),
                Command::Leave(Some(Notice::TwoFactorOff(ended(3))))
            ]
        );
    }

    #[test]
    fn a_step_up_before_the_action_runs_the_action_again() {
        let (wizard, commands) = play(
            WizardAction::Disable,
            vec![
                Event::Confirmed,
                Event::StepUpRequired(StepUpProof::SecondFactor),
                Event::StepUpPassed,
                Event::TurnedOff(ended(0)),
            ],
        );
        assert_eq!(wizard.panel(), &Panel::Working);
        assert_eq!(
            commands,
            vec![
                Command::Run(WizardAction::Disable),
                Command::Nothing,
                Command::Run(WizardAction::Disable),
                Command::Leave(Some(Notice::TwoFactorOff(ended(0)))),
            ]
        );
    }

    #[test]
    fn a_second_confirmation_does_not_run_the_action_twice() {
        let (wizard, commands) = play(
            WizardAction::Regenerate,
            vec![
                Event::Confirmed,
                Event::StepUpRequired(StepUpProof::Password),
                Event::StepUpPassed,
                Event::StepUpPassed,
                Event::CodesIssued(codes()),
            ],
        );
        assert_eq!(wizard.panel(), &Panel::SaveCodes(codes()));
        assert_eq!(
            commands,
            vec![
                Command::Run(WizardAction::Regenerate),
                Command::Nothing,
                Command::Run(WizardAction::Regenerate),
                Command::Nothing,
                Command::Nothing,
            ]
        );
    }

    #[test]
    fn a_step_up_while_verifying_sends_the_typed_code_again() {
        let (wizard, commands) = play(
            WizardAction::Enable,
            vec![
                Event::Opened,
                Event::SetupBegun(setup()),
                Event::Scanned,
                Event::CodeEntered(code("111222")),
                Event::StepUpRequired(StepUpProof::Password),
                Event::StepUpPassed,
            ],
        );
        assert_eq!(wizard.panel(), &Panel::Verify(setup()));
        assert_eq!(
            commands.last(),
            Some(&Command::ConfirmSetup {
                factor_id: setup().factor_id,
                code: code("111222")
            })
        );
    }

    #[test]
    fn cancelling_discards_a_pending_authenticator_only_from_its_steps() {
        let (wizard, _) = play(
            WizardAction::Enable,
            vec![Event::Opened, Event::SetupBegun(setup())],
        );
        assert_eq!(wizard.next(Event::Cancelled).1, Command::CancelSetup);
        let (wizard, _) = play(
            WizardAction::Enable,
            vec![Event::Opened, Event::StepUpRequired(StepUpProof::Password)],
        );
        assert_eq!(wizard.next(Event::Cancelled).1, Command::Leave(None));
        let wizard = Wizard::start(WizardAction::Disable);
        assert_eq!(wizard.next(Event::Cancelled).1, Command::Leave(None));
    }

    #[test]
    fn events_that_do_not_fit_the_panel_change_nothing() {
        let wizard = Wizard::start(WizardAction::Disable);
        for event in [
            Event::Scanned,
            Event::Finished,
            Event::StepUpPassed,
            Event::CodeEntered(code("123456")),
            Event::CodesIssued(codes()),
        ] {
            let (after, command) = wizard.clone().next(event.clone());
            assert_eq!((&after, command), (&wizard, Command::Nothing), "{event:?}");
        }
        // A second "Next" (a double click) after the first moved on.
        let (wizard, _) = play(
            WizardAction::Enable,
            vec![Event::Opened, Event::SetupBegun(setup()), Event::Scanned],
        );
        let (after, command) = wizard.clone().next(Event::Scanned);
        assert_eq!((after, command), (wizard, Command::Nothing));
    }
}
