export { type CdkErrorCode, ResponderBuildError, ResponderPropsError } from './errors.js';
export type { RiposteManifest } from './manifest.js';
export type { ResponderParameterValue } from './parameters.js';
export { RiposteResponder, type RiposteResponderProps } from './responder.js';
