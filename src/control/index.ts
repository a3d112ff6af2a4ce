/** The control socket: protocol, server and client (docs/control-protocol.md). */
export { ControlServer } from './server.js';
export { ControlClient, ControlClientError, type ControlClientErrorCode, type ControlClientOptions } from './client.js';
export { CONTROL_DEFAULTS, type ControlLogger, type ControlServerOptions, type PeerCredentials } from './options.js';
export { ControlError, wireErrorOf, type ControlErrorCode, type WireError } from './errors.js';
export { parseRequestLine, validateRequest, type Validation } from './validate.js';
export * from './protocol.js';
export type * from './target.js';
