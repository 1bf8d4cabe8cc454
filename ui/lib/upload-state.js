// How one upload card's state follows the core's events (progress, done, failed, cancelled).

export function initial() {
  return { state: 'ready', phase: null, serverStatus: null, sent: 0, total: 0, rate: 0, eta: null, imageId: null, result: null, message: null, warning: null };
}

/** A new state after `ev` (an UploadEvent from the core). Final states do not change again. */
export function apply(s, ev) {
  if (['done', 'failed', 'cancelled'].includes(s.state)) return s;
  switch (ev.event) {
    case 'progress':
      return { ...s, state: 'running', phase: ev.phase, serverStatus: ev.server_status ?? null, sent: ev.sent, total: ev.total, rate: ev.rate, eta: ev.eta_secs, imageId: ev.image_id ?? s.imageId };
    case 'warning':
      return { ...s, warning: ev.message };
    case 'done':
      return { ...s, state: 'done', phase: 'active', sent: ev.size, total: ev.size, rate: 0, eta: null, imageId: ev.image_id, result: ev };
    case 'failed':
      return { ...s, state: 'failed', message: ev.message };
    case 'cancelled':
      return { ...s, state: 'cancelled', message: ev.message };
    default:
      return s;
  }
}
