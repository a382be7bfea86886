/** The session config schema lives in config/session-config.ts; re-exported here so workflow code keeps compiling. */
export * from '../config/session-config';
