// A port engine with the file commands registered over a RAM-backed file
// system on a fault-injecting NAND chip; a fake clock drives data-mode timeouts.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/at/engine.hpp>
#include <vmodem/at/registry.hpp>
#include <vmodem/fs/filesystem.hpp>
#include <vmodem/nand/chip.hpp>
#include <vmodem/nand/fault.hpp>
#include <vmodem/nand/rng.hpp>
#include <vmodem/nand/storage.hpp>
#include <vmodem/simulator/file_commands.hpp>

namespace vmodem::sim::testing {

using std::chrono::milliseconds;

// The checksum as the Quectel manuals define it, written independently of the
// implementation: XOR of big-endian 16-bit words, an odd last byte padded
// with a zero low byte, lower-case hex.
inline std::string quectel_checksum(std::string_view data) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    unsigned word = static_cast<unsigned>(static_cast<unsigned char>(data[i])) << 8U;
    if (i + 1 < data.size()) word |= static_cast<unsigned char>(data[i + 1]);
    sum ^= word;
  }
  char text[8];
  std::snprintf(text, sizeof text, "%x", sum);
  return text;
}

// What a hostile payload carries after the point where its write fails: if
// data mode ended there, the module would run it as a command.
inline constexpr std::string_view kDeleteVictim = "\rAT+QFDEL=\"victim.txt\"\r";

// Seeded pseudo-random bytes (NULs, CR, LF, "AT" and "+++" included).
inline std::string random_bytes(std::size_t size, std::uint64_t seed) {
  std::string out(size, '\0');
  nand::Rng rng(seed);
  for (auto& c : out)
    c = static_cast<char>(rng.next());
  return out;
}

class FileCommandsTest : public ::testing::Test {
 protected:
  explicit FileCommandsTest(std::uint32_t blocks = 32) {
    nand::Geometry geometry;
    geometry.block_count = blocks;
    storage_ = std::move(nand::Storage::create_in_memory(geometry).value());
    chip_ = std::make_unique<nand::SimulatedChip>(*storage_, nand::ChipConfig{});
    injector_ = std::make_unique<nand::FaultInjector>(*chip_, nullptr, 7);
    // How the module hears about the flash: its fault injector's listener.
    injector_->set_listener([this](const nand::FaultEvent& event) {
      if (event.effect == nand::FaultEffect::power_cut) ++flash_failures_;
    });
    EXPECT_TRUE(fs::FileSystem::format(*injector_, fs_config_));
    mount();
    at::install_v250_commands(registry_);
    handles_ = std::make_unique<FileHandles>(register_file_commands(
        registry_, FileCommandContext{.ap_fs = [this] { return fs_.get(); }}));
    at::EngineConfig config;
    config.now = [this] { return now_; };
    engine_ = std::make_unique<at::Engine>(registry_, std::move(config));
    engine_->settings().echo = false;
    engine_->settings().cmee = at::CmeeMode::kNumeric;
  }
  ~FileCommandsTest() override { handles_->reset(); }

  void mount() {
    auto mounted = fs::FileSystem::mount(*injector_, fs_config_);
    ASSERT_TRUE(mounted) << mounted.error().message();
    fs_ = std::make_unique<fs::SharedFileSystem>(std::move(*mounted));
  }

  // What the module does on a power cut and the next boot: forget handles,
  // drop the engine's state, restore power and mount what the NAND holds.
  void power_cycle() {
    handles_->reset();
    engine_->reset();
    engine_->settings().echo = false;
    engine_->settings().cmee = at::CmeeMode::kNumeric;
    fs_.reset();
    chip_->power_up();
    injector_->clear_rules();
    mount();
  }

  // Feeds everything (asserting the engine took it) and returns the output.
  std::string send(std::string_view bytes) {
    const std::size_t used = engine_->feed(bytes);
    EXPECT_EQ(used, bytes.size()) << "engine stopped consuming input";
    return engine_->take_output();
  }

  // Lets the fake clock run (timeouts, the padding grace after an upload).
  std::string advance(milliseconds step) {
    now_ += step;
    engine_->poll();
    return engine_->take_output();
  }

  // AT+QFUPL="<name>",<size><extra> then the data: the whole answer.
  std::string upload(std::string_view name, std::string_view data, std::string_view extra = "") {
    std::string out = send("AT+QFUPL=\"" + std::string(name) + "\"," + std::to_string(data.size()) +
                           std::string(extra) + "\r");
    if (out != "\r\nCONNECT\r\n") return out;
    return out + send(data);  // answered as soon as the last byte is in
  }

  std::string upload_ok(std::string_view data) {
    return "\r\nCONNECT\r\n\r\n+QFUPL: " + std::to_string(data.size()) + "," +
           quectel_checksum(data) + "\r\n\r\nOK\r\n";
  }

  // Runs a command that may stream data until the engine is back in command state.
  std::string drain(std::string_view command) {
    std::string out = send(command);
    while (engine_->mode() != at::EngineMode::kCommand)
      out += engine_->take_output();
    return out + engine_->take_output();
  }

  // A file's content read straight from the file system ("" + false if absent).
  bool read_file(std::string_view name, std::string& out) {
    auto bytes = fs_->lock()->read_file("/" + std::string(name));
    if (!bytes) return false;
    out.assign(bytes->begin(), bytes->end());
    return true;
  }

  void put_file(std::string_view name, std::string_view data) {
    std::vector<std::uint8_t> bytes(data.begin(), data.end());
    ASSERT_TRUE(fs_->lock()->write_file("/" + std::string(name), bytes));
  }

  // Fills the drive with other files until at most `left` bytes are free.
  void fill_drive(std::uint64_t left) {
    for (std::uint64_t n = 0; fs_->lock()->statfs().value().free_bytes > left; ++n)
      put_file("fill" + std::to_string(n), random_bytes(100 * 1024, 1000 + n));
  }

  // Feeds `data` to `engine` in pieces of `piece` bytes, as a host's writes
  // arrive, asserting every byte is taken; returns the output meanwhile.
  static std::string feed_in_pieces(at::Engine& engine, std::string_view data, std::size_t piece) {
    std::string out;
    for (std::size_t at = 0; at < data.size(); at += piece) {
      const std::string_view chunk = data.substr(at, piece);
      EXPECT_EQ(engine.feed(chunk), chunk.size()) << "engine stopped taking data at " << at;
      out += engine.take_output();
    }
    return out;
  }

  std::uint64_t free_bytes() const { return fs_->lock()->statfs().value().free_bytes; }

  static std::string cme(int code) { return "\r\n+CME ERROR: " + std::to_string(code) + "\r\n"; }

  fs::Config fs_config_{};
  std::unique_ptr<nand::Storage> storage_;
  std::unique_ptr<nand::SimulatedChip> chip_;
  std::unique_ptr<nand::FaultInjector> injector_;
  std::unique_ptr<fs::SharedFileSystem> fs_;
  at::Registry registry_;
  std::unique_ptr<at::Engine> engine_;
  at::Clock::time_point now_{std::chrono::seconds(1000)};
  int flash_failures_ = 0;
  std::unique_ptr<FileHandles> handles_;
};

}  // namespace vmodem::sim::testing
