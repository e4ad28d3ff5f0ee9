#include "transport/ZmqPublisher.hpp"

#include "transport/ZmqCurve.hpp"

namespace flowlier::transport {

ZmqPublisher::ZmqPublisher(zmq::context_t& context, const std::string& endpoint, const SocketOptions& options,
                           std::uint64_t first_sequence, const std::string& curve_secret_key)
    : socket_(context, zmq::socket_type::pub), sequence_(first_sequence) {
  apply_options(socket_, options);
  if (!curve_secret_key.empty()) make_curve_server(socket_, curve_secret_key);
  socket_.bind(endpoint);
}

std::uint64_t ZmqPublisher::publish(std::string_view topic, std::string_view payload) {
  const std::uint64_t sequence = sequence_++;
  const std::string sequence_text = std::to_string(sequence);
  // PUB never blocks: a subscriber at its high-water mark misses the message.
  socket_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(payload), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(sequence_text), zmq::send_flags::none);
  return sequence;
}

std::string ZmqPublisher::endpoint() const { return socket_.get(zmq::sockopt::last_endpoint); }

}  // namespace flowlier::transport
