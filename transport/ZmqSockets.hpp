#pragma once
// Small helpers for flowlier's ZeroMQ hops: every socket gets an explicit high-water
// mark and linger (libzmq's default linger of -1 would make shutdown hang on unsent
// messages), and internal PUSH hops block at the high-water mark instead of dropping,
// counting each time they had to wait.
#include <atomic>
#include <cstdint>
#include <vector>

#include <zmq.hpp>

namespace flowlier::transport {

struct SocketOptions {
  int send_hwm = 1000;  // messages
  int receive_hwm = 1000;
  int linger_ms = 0;    // at close: drop what is unsent (stages drain before closing)
};

void apply_options(zmq::socket_t& socket, const SocketOptions& options);

// Sends all parts as one multipart message. When the peer is at its high-water mark
// the first attempt would block: that is counted in `blocks`, then the send waits.
// Returns false only if the context was terminated (shutdown).
bool send_counted(zmq::socket_t& socket, std::vector<zmq::message_t>& parts, std::atomic<std::uint64_t>& blocks);

}  // namespace flowlier::transport
