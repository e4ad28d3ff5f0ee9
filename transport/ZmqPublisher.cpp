#include "transport/ZmqPublisher.hpp"

#include "transport/ZmqCurve.hpp"

namespace flowlier::transport {

ZmqPublisher::ZmqPublisher(zmq::context_t& context, const std::string& endpoint, const SocketOptions& options,
                           std::uint64_t first_sequence, const std::string& curve_secret_key)
    : socket_(context, zmq::socket_type::xpub), sequence_(first_sequence) {
  apply_options(socket_, options);
  // Refuse (EAGAIN) instead of silently dropping for a subscriber at its high-water
  // mark: the refusal is what lets publish() count it.
  socket_.set(zmq::sockopt::xpub_nodrop, true);
  if (!curve_secret_key.empty()) make_curve_server(socket_, curve_secret_key);
  socket_.bind(endpoint);
}

void ZmqPublisher::drain_subscriptions() {
  zmq::message_t subscription;
  while (socket_.recv(subscription, zmq::recv_flags::dontwait)) {
  }
}

std::uint64_t ZmqPublisher::publish(std::string_view topic, std::string_view payload) {
  const std::uint64_t sequence = sequence_++;
  drain_subscriptions();
  // The first frame decides: libzmq checks the matching subscribers' high-water marks
  // when it is sent, and a pipe only counts whole messages, so once the first frame is
  // queued the others are accepted too (they cannot block).
  if (!socket_.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
    // A subscriber is full: count it, then send lossy so the others still get the
    // event (a lossy send never waits).
    ++overflows_;
    socket_.set(zmq::sockopt::xpub_nodrop, false);
    const bool sent = socket_.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait).has_value();
    socket_.set(zmq::sockopt::xpub_nodrop, true);
    if (!sent) return sequence;
  }
  const std::string sequence_text = std::to_string(sequence);
  socket_.send(zmq::buffer(payload), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(sequence_text), zmq::send_flags::none);
  return sequence;
}

std::string ZmqPublisher::endpoint() const { return socket_.get(zmq::sockopt::last_endpoint); }

}  // namespace flowlier::transport
