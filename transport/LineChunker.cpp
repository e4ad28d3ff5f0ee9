#include "transport/LineChunker.hpp"

namespace flowlier::transport {

LineChunker::LineChunker(std::size_t max_chunk_bytes, HeaderTest is_header)
    : max_chunk_bytes_(max_chunk_bytes == 0 ? 1 : max_chunk_bytes), is_header_(std::move(is_header)) {}

void LineChunker::feed(std::string_view bytes, const Emit& emit) {
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(bytes);
      return;
    }
    if (partial_.empty()) {
      line(bytes.substr(0, newline), emit);
    } else {
      partial_.append(bytes.substr(0, newline));
      std::string whole;
      whole.swap(partial_);
      line(whole, emit);
    }
    bytes.remove_prefix(newline + 1);
  }
}

void LineChunker::line(std::string_view text, const Emit& emit) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (first_line_) {
    first_line_ = false;
    if (is_header_ && is_header_(text)) {
      header_.assign(text);
      header_ += '\n';
      return;
    }
  }
  // A line that would overflow the chunk goes into the next one.
  if (!pending_.empty() && header_.size() + pending_.size() + text.size() + 1 > max_chunk_bytes_) flush(emit);
  pending_.append(text);
  pending_ += '\n';
  if (header_.size() + pending_.size() >= max_chunk_bytes_) flush(emit);
}

void LineChunker::flush(const Emit& emit) {
  if (pending_.empty()) return;
  std::string chunk;
  chunk.reserve(header_.size() + pending_.size());
  chunk.append(header_);
  chunk.append(pending_);
  pending_.clear();
  emit(std::move(chunk));
}

void LineChunker::finish(const Emit& emit) {
  if (!partial_.empty()) {
    std::string last;
    last.swap(partial_);
    line(last, emit);
  }
  flush(emit);
}

void LineChunker::resume(std::string_view first_line) {
  reset();
  first_line_ = false;
  if (!first_line.empty() && first_line.back() == '\r') first_line.remove_suffix(1);
  if (is_header_ && is_header_(first_line)) {
    header_.assign(first_line);
    header_ += '\n';
  }
}

void LineChunker::reset() {
  first_line_ = true;
  header_.clear();
  partial_.clear();
  pending_.clear();
}

}  // namespace flowlier::transport
