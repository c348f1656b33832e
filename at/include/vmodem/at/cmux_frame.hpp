#pragma once

// 3GPP TS 27.010 basic option framing: the frame codec under CmuxSession
// (cmux.hpp), usable alone by tests and clients.
//
//   F9 | address | control | length (1 or 2 bytes) | information | FCS | F9
//
// address: bit 0 EA (1: one byte), bit 1 C/R, bits 2..7 the DLCI.
// length:  bit 0 EA (1: this is the last length byte), the rest the length,
//          low 7 bits first.
// FCS:     27.010 Annex B: CRC-8, polynomial x^8+x^2+x+1 processed LSB
//          first (table of the reversed polynomial 0xE0), initial 0xFF, sent
//          as its ones' complement. UIH frames cover address, control and
//          length; every other frame type covers the information too.
//
// Basic option has no transparency: a flag byte inside the information is
// data, found by the length. A receiver resynchronises on the next flag
// after any damage.
//
// Thread: none of this holds shared state; a Decoder is one stream's.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace vmodem::at::cmux {

inline constexpr std::uint8_t kFlag = 0xF9;
inline constexpr std::uint8_t kEa = 0x01;
inline constexpr std::uint8_t kCr = 0x02;
inline constexpr std::uint8_t kPf = 0x10;

// Frame types (control field without the P/F bit).
enum class FrameType : std::uint8_t {
  kSabm = 0x2F,
  kUa = 0x63,
  kDm = 0x0F,
  kDisc = 0x43,
  kUih = 0xEF,
  kUi = 0x03,
};

// Control channel (DLC 0) message types: the type octet with EA set and C/R
// clear (27.010 §5.4.6.3). A command carries C/R = 1, a response C/R = 0.
namespace msg {
inline constexpr std::uint8_t kPn = 0x81;     // parameter negotiation
inline constexpr std::uint8_t kPsc = 0x41;    // power saving control
inline constexpr std::uint8_t kCld = 0xC1;    // multiplexer close down
inline constexpr std::uint8_t kTest = 0x21;   // test (echo)
inline constexpr std::uint8_t kFcOn = 0xA1;   // flow control on (all DLCs)
inline constexpr std::uint8_t kFcOff = 0x61;  // flow control off (all DLCs)
inline constexpr std::uint8_t kMsc = 0xE1;    // modem status
inline constexpr std::uint8_t kNsc = 0x11;    // non supported command response
inline constexpr std::uint8_t kRpn = 0x91;    // remote port negotiation
inline constexpr std::uint8_t kRls = 0x51;    // remote line status
inline constexpr std::uint8_t kSnc = 0xD1;    // service negotiation
}  // namespace msg

// V.24 signal octet of MSC.
namespace v24 {
inline constexpr std::uint8_t kFc = 0x02;   // flow control: the sender cannot accept frames
inline constexpr std::uint8_t kRtc = 0x04;  // ready to communicate (DSR/DTR)
inline constexpr std::uint8_t kRtr = 0x08;  // ready to receive (CTS/RTS)
inline constexpr std::uint8_t kIc = 0x40;   // incoming call (RI)
inline constexpr std::uint8_t kDv = 0x80;   // data valid (DCD)
}  // namespace v24

struct Frame {
  std::uint8_t dlci = 0;  // 0..63
  bool cr = false;        // the address's C/R bit
  FrameType type = FrameType::kUih;
  bool pf = false;  // poll (command) / final (response)
  std::vector<std::uint8_t> info;

  friend bool operator==(const Frame&, const Frame&) = default;
};

// The FCS byte to send over `bytes` (the ones' complement of the CRC).
std::uint8_t fcs(std::span<const std::uint8_t> bytes) noexcept;
// True if `bytes` followed by `received` checks (the CRC ends at 0xCF).
bool fcs_ok(std::span<const std::uint8_t> bytes, std::uint8_t received) noexcept;

// Appends the encoded frame, flags included, to `out`. An information field
// longer than 32767 bytes is cut there (the length field's limit).
void encode(const Frame& frame, std::vector<std::uint8_t>& out);
std::vector<std::uint8_t> encode(const Frame& frame);

struct DecoderStats {
  std::uint64_t frames = 0;         // delivered
  std::uint64_t fcs_errors = 0;     // complete frames whose FCS did not check
  std::uint64_t too_long = 0;       // length field above the maximum (N1)
  std::uint64_t malformed = 0;      // bad address/control/closing flag: resynchronised
  std::uint64_t bytes_skipped = 0;  // bytes outside any frame (garbage between frames)
};

// Byte-stream → frames. Feed any split of the stream; each complete frame
// with a good FCS is handed to the callback in order. Never throws on input
// (the callback may); memory stays below one frame of `max_info` bytes.
class Decoder {
 public:
  // `max_info`: N1, the longest information field accepted.
  explicit Decoder(std::size_t max_info) : max_info_(max_info) {}

  // Decodes `bytes` until the callback returns false (the caller stops
  // decoding, e.g. the mux closed); returns how many bytes were used, all
  // of them unless the callback said stop.
  std::size_t feed(std::span<const std::uint8_t> bytes,
                   const std::function<bool(Frame&&)>& on_frame);

  const DecoderStats& stats() const noexcept { return stats_; }
  void set_max_info(std::size_t max_info) noexcept { max_info_ = max_info; }

 private:
  enum class State : std::uint8_t {
    kHunt,
    kAddress,
    kControl,
    kLength,
    kLength2,
    kInfo,
    kFcs,
    kClose
  };

  std::size_t max_info_;
  State state_ = State::kHunt;
  std::uint8_t header_[4]{};  // address, control, length (1 or 2)
  std::size_t header_size_ = 0;
  std::size_t length_ = 0;
  Frame frame_;
  bool fcs_good_ = false;
  DecoderStats stats_;
};

}  // namespace vmodem::at::cmux
