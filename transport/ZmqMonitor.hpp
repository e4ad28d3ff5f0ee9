#pragma once
// Counts what a bound ZeroMQ socket refuses without telling the application, from its
// socket monitor (zmq_socket_monitor) on a thread of its own:
//   - handshake failures, by reason (ZMQ_EVENT_HANDSHAKE_FAILED_*): a client without
//     CURVE on a CURVE endpoint (mechanism_mismatch), a client with the wrong server
//     key (cryptographic), a client key the ZAP allow-list refuses (auth_refused), other
//     protocol errors (protocol) and failures libzmq gives no detail for (no_detail);
//   - disconnected peers: a peer that sends a message over the socket's ZMQ_MAXMSGSIZE
//     is disconnected by libzmq and its message lost, with no other trace than this
//     event (libzmq reports it like any disconnect: a peer closing, or a failed
//     handshake, counts too).
// Create it before the socket binds, stop it before the context is closed.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <zmq.hpp>

namespace flowlier::transport {

enum class HandshakeFailure : std::uint8_t { mechanism_mismatch, cryptographic, auth_refused, protocol, no_detail };
inline constexpr std::size_t kHandshakeFailureCount = 5;
std::string_view to_string(HandshakeFailure reason);

class SocketMonitor {
 public:
  // Starts monitoring `socket` (owned by the caller's thread until it is handed to a stage).
  SocketMonitor(zmq::context_t& context, zmq::socket_t& socket);
  ~SocketMonitor();
  SocketMonitor(const SocketMonitor&) = delete;
  SocketMonitor& operator=(const SocketMonitor&) = delete;

  void stop();
  std::uint64_t accepted() const { return accepted_.load(); }
  std::uint64_t disconnects() const { return disconnects_.load(); }
  std::uint64_t handshake_failures(HandshakeFailure reason) const {
    return failures_[static_cast<std::size_t>(reason)].load();
  }

 private:
  void serve();

  zmq::socket_t pair_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> disconnects_{0};
  std::array<std::atomic<std::uint64_t>, kHandshakeFailureCount> failures_{};
  std::thread thread_;
};

}  // namespace flowlier::transport
