// Package delivery moves queued tickets to the help desks. Read this
// first if you are new to Ticketray.
//
// The path of a ticket: the app stores it in the encrypted queue
// (queue.Store) with one delivery row per enabled connection, and returns
// at once. Everything after that happens here:
//
//   - A Supervisor owns delivery for a process: `ticketray serve`, the
//     tray app and `ticketray drain` all run one. It builds a Courier for
//     the config in force, replaces it when the config files change (an
//     invalid change is refused and the last good config stays), purges
//     delivered tickets after the retention period, restarts the courier
//     if the disk fails under it, and logs through log/slog.
//   - A Courier is the queue dispatcher's Handler: the dispatcher leases
//     due deliveries and the courier calls the vendor's connector, then
//     says what became of each (delivered, retry at a backoff time,
//     offline, dead). It finds before it creates whenever an earlier
//     attempt may have reached the vendor, so nothing is created twice,
//     and it sends each connection its own idempotency key
//     (connectors.DeliveryKey), so two connections on one vendor site
//     never take each other's records.
//   - Connections fail alone. Each is built on its own; one that cannot
//     be built (an unregistered type, a missing option, a secret that does
//     not resolve, no keyring) is Misconfigured: its deliveries wait and
//     every other connection delivers. Build failures are tried again
//     (a keyring may come up later); a config reload starts a connection
//     that has become valid.
//   - Health tells the truth: healthy, degraded (retryable failures),
//     down (offline, probed every second), breaker_open (resting after
//     failures in a row), failing (the vendor refused: credentials
//     rejected, or a request it will never accept) and misconfigured.
//     It is written to the queue, so `connections list` in another
//     process and the tray's Settings window see it.
//
// Nothing here imports the app package or Fyne: the app hands in how to
// build a connector and how to watch the config.
package delivery
