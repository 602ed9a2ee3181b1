// Import-free on purpose: the workflow bundle imports it (see eslint.config.mjs, WORKFLOW_SAFE_DOMAIN).
// The `type` of every ApplicationFailure that Fireline's workflow and activities throw. They are part of the
// contract: the timeline, tests and API callers see them, and recorded histories contain them, so a value is
// never renamed. Channel failures have their own registry (activities/channels/errors.ts, ChannelFailureType).

/** Why an update's validator refused; src/services maps each to an HTTP code. */
export const REJECTION = {
  notFound: 'NotFound',
  conflict: 'Conflict',
  forbidden: 'Forbidden',
  invalid: 'InvalidArgument',
} as const;
export type RejectionType = (typeof REJECTION)[keyof typeof REJECTION];

export const FAILURE = {
  ...REJECTION,
  // Steps (workflow code)
  unhealthy: 'Unhealthy',
  restoreCheckFailed: 'RestoreCheckFailed',
  waitTimedOut: 'WaitTimedOut',
  taskOverdue: 'TaskOverdue',
  nobodyAcknowledged: 'NobodyAcknowledged',
  unknownPolicy: 'UnknownPolicy',
  // Paging
  pageWithdrawn: 'PageWithdrawn',
  throttled: 'Throttled',
  /** Another worker is deciding this contact's throttle right now: retried in a moment. */
  contactBusy: 'ContactBusy',
  // Actions, checks and their configuration
  actionNetworkError: 'FirelineActionNetworkError',
  actionHttpRetryable: 'FirelineActionHttpRetryable',
  actionHttpRejected: 'FirelineActionHttpRejected',
  commandFailed: 'FirelineCommandFailed',
  commandTimeout: 'FirelineCommandTimeout',
  missingEnv: 'FirelineMissingEnv',
  configError: 'FirelineConfigError',
  // Backups
  unknownBackupTarget: 'UnknownBackupTarget',
  invalidBackupTarget: 'InvalidBackupTarget',
  invalidBackupRequest: 'InvalidBackupRequest',
  missingEnvVariable: 'MissingEnvVariable',
  backupSourceUnavailable: 'BackupSourceUnavailable',
  backupToolMissing: 'BackupToolMissing',
  backupFailed: 'BackupFailed',
  backupServiceUnreachable: 'BackupServiceUnreachable',
  backupServiceError: 'BackupServiceError',
} as const;
export type FailureType = (typeof FAILURE)[keyof typeof FAILURE];
