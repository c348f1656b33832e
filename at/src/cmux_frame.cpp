// 27.010 basic option frame codec (see cmux_frame.hpp).

#include <algorithm>
#include <array>

#include <vmodem/at/cmux_frame.hpp>

namespace vmodem::at::cmux {

namespace {

// 27.010 Annex B: the CRC table of the reversed polynomial 0xE0, built at
// compile time instead of copied.
constexpr std::array<std::uint8_t, 256> make_crc_table() {
  std::array<std::uint8_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    unsigned crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1U) != 0 ? (crc >> 1U) ^ 0xE0U : crc >> 1U;
    table.at(i) = static_cast<std::uint8_t>(crc);
  }
  return table;
}

constexpr std::array<std::uint8_t, 256> kCrcTable = make_crc_table();
static_assert(kCrcTable[1] == 0x91 && kCrcTable[255] == 0xCF, "27.010 Annex B table");

std::uint8_t crc(std::span<const std::uint8_t> bytes, std::uint8_t start = 0xFF) noexcept {
  std::uint8_t value = start;
  for (const std::uint8_t byte : bytes)
    value = kCrcTable.at(static_cast<std::uint8_t>(value ^ byte));
  return value;
}

constexpr std::size_t kMaxLength = 0x7FFF;

bool known_type(std::uint8_t control) {
  switch (static_cast<FrameType>(control & ~kPf)) {
    case FrameType::kSabm:
    case FrameType::kUa:
    case FrameType::kDm:
    case FrameType::kDisc:
    case FrameType::kUih:
    case FrameType::kUi:
      return true;
  }
  return false;
}

}  // namespace

std::uint8_t fcs(std::span<const std::uint8_t> bytes) noexcept {
  return static_cast<std::uint8_t>(0xFF - crc(bytes));
}

bool fcs_ok(std::span<const std::uint8_t> bytes, std::uint8_t received) noexcept {
  const std::uint8_t value = crc(bytes);
  return kCrcTable.at(static_cast<std::uint8_t>(value ^ received)) == 0xCF;
}

void encode(const Frame& frame, std::vector<std::uint8_t>& out) {
  const std::size_t length = std::min(frame.info.size(), kMaxLength);
  std::array<std::uint8_t, 4> header{};
  std::size_t header_size = 0;
  header.at(header_size++) =
      static_cast<std::uint8_t>(kEa | (frame.cr ? kCr : 0) | ((frame.dlci & 0x3FU) << 2U));
  header.at(header_size++) =
      static_cast<std::uint8_t>(static_cast<std::uint8_t>(frame.type) | (frame.pf ? kPf : 0));
  if (length <= 0x7F) {
    header.at(header_size++) = static_cast<std::uint8_t>((length << 1U) | kEa);
  } else {
    header.at(header_size++) = static_cast<std::uint8_t>((length & 0x7FU) << 1U);
    header.at(header_size++) = static_cast<std::uint8_t>(length >> 7U);
  }
  const auto head = std::span<const std::uint8_t>(header).first(header_size);
  const auto info = std::span<const std::uint8_t>(frame.info).first(length);
  std::uint8_t check = 0;
  if (frame.type == FrameType::kUih) {
    check = fcs(head);
  } else {
    check = static_cast<std::uint8_t>(0xFF - crc(info, crc(head)));
  }
  out.reserve(out.size() + header_size + length + 3);
  out.push_back(kFlag);
  out.insert(out.end(), head.begin(), head.end());
  out.insert(out.end(), info.begin(), info.end());
  out.push_back(check);
  out.push_back(kFlag);
}

std::vector<std::uint8_t> encode(const Frame& frame) {
  std::vector<std::uint8_t> out;
  encode(frame, out);
  return out;
}

std::size_t Decoder::feed(std::span<const std::uint8_t> bytes,
                          const std::function<bool(Frame&&)>& on_frame) {
  std::size_t used = 0;
  while (used < bytes.size()) {
    const std::uint8_t byte = bytes[used];
    switch (state_) {
      case State::kHunt:
        ++used;
        if (byte == kFlag) {
          state_ = State::kAddress;
        } else {
          ++stats_.bytes_skipped;
        }
        break;
      case State::kAddress:
        ++used;
        if (byte == kFlag) break;  // repeated flags (a closing and an opening one)
        if ((byte & kEa) == 0) {   // basic option addresses are one byte
          ++stats_.malformed;
          state_ = State::kHunt;
          break;
        }
        header_size_ = 0;
        header_[header_size_++] = byte;
        state_ = State::kControl;
        break;
      case State::kControl:
        ++used;
        if (!known_type(byte)) {
          ++stats_.malformed;
          // A flag here opens the next frame (the previous one was cut).
          state_ = byte == kFlag ? State::kAddress : State::kHunt;
          break;
        }
        header_[header_size_++] = byte;
        state_ = State::kLength;
        break;
      case State::kLength:
      case State::kLength2: {
        ++used;
        header_[header_size_++] = byte;
        if (state_ == State::kLength) {
          length_ = byte >> 1U;
          if ((byte & kEa) == 0) {
            state_ = State::kLength2;
            break;
          }
        } else {
          length_ |= static_cast<std::size_t>(byte) << 7U;
        }
        if (length_ > max_info_) {
          // Not read: after a damaged length the information is not worth
          // waiting for; the next flag resynchronises.
          ++stats_.too_long;
          state_ = State::kHunt;
          break;
        }
        frame_.dlci = static_cast<std::uint8_t>(header_[0] >> 2U);
        frame_.cr = (header_[0] & kCr) != 0;
        frame_.type = static_cast<FrameType>(header_[1] & ~kPf);
        frame_.pf = (header_[1] & kPf) != 0;
        frame_.info.clear();
        state_ = length_ == 0 ? State::kFcs : State::kInfo;
        break;
      }
      case State::kInfo: {
        const std::size_t take = std::min(length_ - frame_.info.size(), bytes.size() - used);
        const auto chunk = bytes.subspan(used, take);
        frame_.info.insert(frame_.info.end(), chunk.begin(), chunk.end());
        used += take;
        if (frame_.info.size() == length_) state_ = State::kFcs;
        break;
      }
      case State::kFcs: {
        ++used;
        const auto head = std::span<const std::uint8_t>(header_).first(header_size_);
        if (frame_.type == FrameType::kUih) {
          fcs_good_ = fcs_ok(head, byte);
        } else {
          fcs_good_ =
              kCrcTable.at(static_cast<std::uint8_t>(crc(frame_.info, crc(head)) ^ byte)) == 0xCF;
        }
        state_ = State::kClose;
        break;
      }
      case State::kClose:
        if (byte != kFlag) {
          // Not consumed: it may be garbage or the start of something else.
          ++stats_.malformed;
          state_ = State::kHunt;
          break;
        }
        ++used;
        state_ = State::kAddress;  // the closing flag may open the next frame
        if (!fcs_good_) {
          ++stats_.fcs_errors;
          break;
        }
        ++stats_.frames;
        if (!on_frame(std::move(frame_))) {
          frame_ = Frame{};
          return used;
        }
        frame_ = Frame{};
        break;
    }
  }
  return used;
}

}  // namespace vmodem::at::cmux
