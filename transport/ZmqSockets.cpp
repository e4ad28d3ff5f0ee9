#include "transport/ZmqSockets.hpp"

namespace flowlier::transport {

void apply_options(zmq::socket_t& socket, const SocketOptions& options) {
  socket.set(zmq::sockopt::sndhwm, options.send_hwm);
  socket.set(zmq::sockopt::rcvhwm, options.receive_hwm);
  socket.set(zmq::sockopt::linger, options.linger_ms);
}

bool send_counted(zmq::socket_t& socket, std::vector<zmq::message_t>& parts, std::atomic<std::uint64_t>& blocks) {
  if (parts.empty()) return true;
  try {
    // The first part decides: once it is queued, ZeroMQ accepts the rest atomically.
    const bool more = parts.size() > 1;
    auto flags = (more ? zmq::send_flags::sndmore : zmq::send_flags::none);
    if (!socket.send(parts[0], flags | zmq::send_flags::dontwait)) {
      blocks.fetch_add(1, std::memory_order_relaxed);
      if (!socket.send(parts[0], flags)) return false;
    }
    for (std::size_t i = 1; i < parts.size(); ++i) {
      socket.send(parts[i], i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    return true;
  } catch (const zmq::error_t&) {
    return false;  // ETERM: the context is shutting down
  }
}

}  // namespace flowlier::transport
