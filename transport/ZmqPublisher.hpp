#pragma once
// The events-out PUB socket. Each event is the multipart message
//   [topic][payload][sequence number as decimal text]
// so subscribers filter on topic prefixes and detect gaps in the sequence (PUB drops
// for subscribers at their high-water mark; ZeroMQ does not report those drops to
// the sender, which is why the sequence is there).
#include <cstdint>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "transport/ZmqSockets.hpp"

namespace flowlier::transport {

class ZmqPublisher {
 public:
  // Binds a PUB socket on `endpoint`. Throws zmq::error_t when the bind fails (at
  // start-up only, before any data flows).
  // With a CURVE secret key the socket is a CURVE server (see ZmqCurve.hpp; run a
  // ZapHandler on the context to admit only known subscribers).
  ZmqPublisher(zmq::context_t& context, const std::string& endpoint, const SocketOptions& options,
               std::uint64_t first_sequence = 1, const std::string& curve_secret_key = {});

  // Returns the sequence number the message was sent with.
  std::uint64_t publish(std::string_view topic, std::string_view payload);
  std::uint64_t next_sequence() const { return sequence_; }
  std::string endpoint() const;  // the bound endpoint (resolved port for tcp://...:*)

 private:
  zmq::socket_t socket_;
  std::uint64_t sequence_;
};

}  // namespace flowlier::transport
