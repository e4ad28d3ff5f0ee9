#include "transport/ZmqMonitor.hpp"

#include <fmt/format.h>

#include <cstring>

namespace flowlier::transport {

namespace {
std::atomic<std::uint64_t> next_monitor{0};

HandshakeFailure protocol_reason(std::uint32_t code) {
  if (code == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) return HandshakeFailure::mechanism_mismatch;
  if (code == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) return HandshakeFailure::cryptographic;
  return HandshakeFailure::protocol;
}
}  // namespace

std::string_view to_string(HandshakeFailure reason) {
  constexpr std::array<std::string_view, kHandshakeFailureCount> names{"mechanism_mismatch", "cryptographic",
                                                                       "auth_refused", "protocol", "no_detail"};
  return names[static_cast<std::size_t>(reason)];
}

SocketMonitor::SocketMonitor(zmq::context_t& context, zmq::socket_t& socket) : pair_(context, zmq::socket_type::pair) {
  const std::string endpoint = fmt::format("inproc://flowlier.monitor.{}", next_monitor.fetch_add(1));
  constexpr int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                         ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), events) != 0) throw zmq::error_t();
  pair_.set(zmq::sockopt::linger, 0);
  pair_.connect(endpoint);
  thread_ = std::thread([this] { serve(); });
}

SocketMonitor::~SocketMonitor() { stop(); }

void SocketMonitor::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  pair_.close();
}

void SocketMonitor::serve() {
  while (!stopping_) {
    zmq::pollitem_t item{pair_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      // Two frames: [u16 event][u32 value], then the endpoint.
      zmq::message_t event, address;
      if (!pair_.recv(event) || !pair_.get(zmq::sockopt::rcvmore) || !pair_.recv(address)) continue;
      if (event.size() < 6) continue;
      std::uint16_t id = 0;
      std::uint32_t value = 0;
      std::memcpy(&id, event.data(), sizeof id);
      std::memcpy(&value, static_cast<const char*>(event.data()) + 2, sizeof value);
      switch (id) {
        case ZMQ_EVENT_ACCEPTED: accepted_.fetch_add(1); break;
        case ZMQ_EVENT_DISCONNECTED: disconnects_.fetch_add(1); break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
          failures_[static_cast<std::size_t>(protocol_reason(value))].fetch_add(1);
          break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
          failures_[static_cast<std::size_t>(HandshakeFailure::auth_refused)].fetch_add(1);
          break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
          failures_[static_cast<std::size_t>(HandshakeFailure::no_detail)].fetch_add(1);
          break;
        default: break;
      }
    } catch (const zmq::error_t&) {
      return;  // context terminated
    }
  }
}

}  // namespace flowlier::transport
