/**
 * The `error` events the fake sends, worded like the service's (protocols.md 1.9). Each helper returns
 * the `error` object's fields; the connection adds `event_id` and the client's `event_id`.
 */

/** Fields of an `error` event's `error` object, before the ids are added. */
export interface ErrorSpec {
  /** Error class, e.g. `invalid_request_error` (default), `server_error`. */
  type?: string;
  /** Stable code such as `conversation_already_has_active_response`, or null. */
  code: string | null;
  /** Human-readable message. */
  message: string;
  /** Dotted path of the offending parameter, or null. */
  param?: string | null;
}

/** Canned errors, named after their `code`. */
export const errors = {
  unknownEvent(type: string, supported: readonly string[]): ErrorSpec {
    const list = supported.map((s) => `'${s}'`).join(', ');
    const message = `Invalid value: '${type}'. Supported values are: ${list}.`;
    return { code: 'invalid_value', param: 'type', message };
  },
  invalidJson(): ErrorSpec {
    return {
      code: 'invalid_json',
      message: 'We could not parse the JSON body of your request. (HINT: This likely means you ' + "aren't using your HTTP library correctly.)",
    };
  },
  missingParam(param: string): ErrorSpec {
    return { code: 'missing_required_parameter', param, message: `Missing required parameter: '${param}'.` };
  },
  unknownParam(param: string): ErrorSpec {
    return { code: 'unknown_parameter', param, message: `Unknown parameter: '${param}'.` };
  },
  invalidValue(param: string, detail?: string): ErrorSpec {
    return { code: 'invalid_value', param, message: detail ?? `Invalid value for '${param}'.` };
  },
  invalidType(param: string, expected: string): ErrorSpec {
    return { code: 'invalid_type', param, message: `Invalid type for '${param}': expected ${expected}.` };
  },
  outOfRange(param: string, min: number, max: number, got: number): ErrorSpec {
    const above = got > max;
    return {
      code: above ? 'decimal_above_max_value' : 'decimal_below_min_value',
      param,
      message: above
        ? `Invalid '${param}': decimal above maximum value. Expected a value <= ${max}, but got ${got} instead.`
        : `Invalid '${param}': decimal below minimum value. Expected a value >= ${min}, but got ${got} instead.`,
    };
  },
  commitEmpty(bufferedMs: number): ErrorSpec {
    return {
      code: 'input_audio_buffer_commit_empty',
      message:
        'Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, ' +
        `but buffer only has ${bufferedMs.toFixed(2)}ms of audio.`,
    };
  },
  activeResponse(responseId: string): ErrorSpec {
    return {
      code: 'conversation_already_has_active_response',
      message: `Conversation already has an active response in progress: ${responseId}. ` + 'Wait until the response is finished before creating a new one.',
    };
  },
  cancelNotActive(): ErrorSpec {
    return { code: 'response_cancel_not_active', message: 'Cancellation failed: no active response found' };
  },
  truncateTooLong(haveMs: number, wantMs: number): ErrorSpec {
    return {
      code: 'invalid_value',
      param: 'audio_end_ms',
      message: `Audio content of ${Math.floor(haveMs)}ms is already shorter than ${wantMs}ms`,
    };
  },
  itemNotFound(param: string, itemId: string): ErrorSpec {
    return { code: 'item_not_found', param, message: `Item with item_id not found: ${itemId}` };
  },
  callIdNotFound(callId: string): ErrorSpec {
    return {
      code: 'invalid_value',
      param: 'item.call_id',
      message: `Tool call ID '${callId}' not found in conversation.`,
    };
  },
  voiceLocked(): ErrorSpec {
    const message = "Cannot update a conversation's voice if assistant audio is present.";
    return { code: 'cannot_update_voice', message };
  },
  sessionExpired(): ErrorSpec {
    return { code: 'session_expired', message: SESSION_EXPIRED_MESSAGE };
  },
};

/** The message (and close reason) the service uses when a session hits its 60-minute cap. */
export const SESSION_EXPIRED_MESSAGE = 'Your session hit the maximum duration of 60 minutes.';
