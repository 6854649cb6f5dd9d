/** The codes @riposte/cli throws. */
export type CliErrorCode = 'PROJECT_CONFIG_INVALID' | 'BUILD_FAILED';
