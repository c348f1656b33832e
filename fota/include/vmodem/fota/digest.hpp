// SHA-256 digests (OpenSSL EVP) for images, firmware versions and packages.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace vmodem::fota {

using Digest = std::array<std::uint8_t, 32>;

// SHA-256 of `data` in one call.
Digest sha256(std::span<const std::uint8_t> data);

// Lower-case hex form of a digest (64 characters).
std::string to_hex(const Digest& digest);

// Incremental SHA-256: feed the target as the applier produces it.
// Copyable, so a caller can snapshot the state; reset() starts over.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256& other);
  Sha256& operator=(const Sha256& other);
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const std::uint8_t> data);
  // The digest of everything fed since construction or reset(); the state is
  // left untouched, so update() may continue afterwards.
  Digest peek() const;
  void reset();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

}  // namespace vmodem::fota
