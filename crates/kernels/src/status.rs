//! The one status enum of every export that can fail (mirrored in ts/runtime/abi.ts `STATUS`).

/// Success.
pub const STATUS_OK: u32 = 0;
/// The loss was NaN or ±Inf: no parameter or optimizer state changed; `train_step` restored the
/// batch-norm running statistics.
pub const STATUS_NON_FINITE_LOSS: u32 = 1;
/// A malformed record or argument (unknown code, missing or short buffer, lengths that disagree,
/// too few rows, a rate outside its range): nothing was written.
pub const STATUS_BAD_ARGUMENT: u32 = 2;
/// The loss was finite but the update produced a non-finite parameter, optimizer state or
/// running statistic: everything was restored bit for bit from the plan's backup.
pub const STATUS_NON_FINITE_UPDATE: u32 = 3;
/// An update without a backup (`optimizer_apply`) produced a non-finite value: the buffers hold
/// that result (the caller keeps the originals).
pub const STATUS_NON_FINITE_RESULT: u32 = 4;
/// The update could not be proven finite and the plan's backup holds only the running statistics
/// (its first part): nothing changed (the running statistics were restored). Give the plan the
/// whole backup ([`crate::step::backup_floats`]) and run the same step again.
pub const STATUS_NEEDS_BACKUP: u32 = 5;
