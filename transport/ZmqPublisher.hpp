#pragma once
// The events-out publisher. Each event is the multipart message
//   [topic][payload][sequence number as decimal text]
// so subscribers filter on topic prefixes and detect gaps in the sequence.
//
// Slow subscribers: ZeroMQ's PUB drops silently for a subscriber at its high-water mark.
// To count that without letting one stuck subscriber cost the others their events,
// the socket is an XPUB with ZMQ_XPUB_NODROP, sent without waiting: libzmq 4.3.x then
// refuses a message (EAGAIN) when any matching subscriber is at its high-water mark.
// publish() counts that refusal in overflows() and sends the message again in lossy
// mode (NODROP off for that one send; ZeroMQ reads the option per send), so every
// subscriber with room gets it and only the full one misses it. libzmq then sets the
// full subscriber aside until it has drained to its low-water mark; the events it misses
// meanwhile are not seen by the sender, so overflows() counts the times subscribers
// were found full (each is at least one missed event; the subscriber's sequence shows
// every gap), not every event missed. An event no subscriber matches (no subscriber,
// or only other topics) is not an overflow: nobody asked for it.
//
// Subscriptions: XPUB hands (un)subscription messages to the application; publish()
// reads and discards them so they do not pile up (ZMQ_XPUB_VERBOSE stays off, so only
// the first subscription to a prefix and the last unsubscription arrive). Reading them
// also makes libzmq process pending commands, so the pipes' free space is current
// when the event is sent (a subscriber that has caught up is not counted as full).
// Cost: one non-blocking receive (a poll of the socket's mailbox) per event.
//
// A burst larger than the high-water mark can be refused even for a subscriber that
// reads, before ZeroMQ's I/O thread has moved the earlier messages to the kernel; keep
// --hwm well above the largest burst of events (one window close).
//
// Not thread-safe: one thread owns the publisher (ZeroMQ sockets are single-threaded).
#include <cstdint>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "transport/ZmqSockets.hpp"

namespace flowlier::transport {

class ZmqPublisher {
 public:
  // Binds an XPUB socket on `endpoint`. Throws zmq::error_t when the bind fails (at
  // start-up only, before any data flows).
  // With a CURVE secret key the socket is a CURVE server (see ZmqCurve.hpp; run a
  // ZapHandler on the context to admit only known subscribers).
  ZmqPublisher(zmq::context_t& context, const std::string& endpoint, const SocketOptions& options,
               std::uint64_t first_sequence = 1, const std::string& curve_secret_key = {});

  // Sends the event without ever blocking. Returns the sequence number it was given
  // (also when a full subscriber missed it). Throws zmq::error_t only when the
  // context is terminated.
  std::uint64_t publish(std::string_view topic, std::string_view payload);
  std::uint64_t next_sequence() const { return sequence_; }
  // Events that found a matching subscriber at its high-water mark (see above).
  std::uint64_t overflows() const { return overflows_; }
  std::string endpoint() const;  // the bound endpoint (resolved port for tcp://...:*)
  // For a socket monitor (ZmqMonitor.hpp), attached before the publishing thread starts.
  zmq::socket_t& socket() { return socket_; }

 private:
  void drain_subscriptions();

  zmq::socket_t socket_;
  std::uint64_t sequence_;
  std::uint64_t overflows_ = 0;
};

}  // namespace flowlier::transport
