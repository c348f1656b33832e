// Power cuts during file commands: after the next boot an uploaded file is
// either absent or complete, other files are untouched, and the module keeps
// serving.

#include <string>

#include "file_fixture.hpp"

namespace vmodem::sim::testing {
namespace {

class PowerCut : public FileCommandsTest {
 protected:
  // Runs one upload of `data` as a host would (stopping when the module ends
  // data mode early) and returns everything the module said.
  std::string run_upload(const std::string& name, const std::string& data) {
    std::string out = send("AT+QFUPL=\"" + name + "\"," + std::to_string(data.size()) + "\r");
    std::size_t fed = 0;
    while (fed < data.size() && engine_->mode() == at::EngineMode::kUpload)
      fed += engine_->feed(std::string_view(data).substr(fed, 700));
    return out + engine_->take_output() + advance(milliseconds(50));
  }

  // Back to the state saved by snapshot_begin(), powered and mounted.
  void rollback() {
    handles_->reset();
    engine_->reset();
    engine_->settings().echo = false;
    engine_->settings().cmee = at::CmeeMode::kNumeric;
    fs_.reset();
    storage_->snapshot_rollback();
    chip_->power_up();
    injector_->clear_rules();
    mount();
    injector_->reset_operation_count();
  }
};

TEST_F(PowerCut, UploadCutAtEveryOperationLeavesNoFileOrTheWholeFile) {
  put_file("old.txt", "survivor");
  const std::string data = random_bytes(30000, 21);
  fs_.reset();
  storage_->snapshot_begin();
  rollback();
  ASSERT_EQ(run_upload("new.bin", data), upload_ok(data));
  const std::uint64_t operations = injector_->operation_count();
  ASSERT_GT(operations, 5U);

  int absent = 0;
  int complete = 0;
  for (const auto mode : {nand::CutMode::before, nand::CutMode::after, nand::CutMode::torn_partial,
                          nand::CutMode::torn_unstable}) {
    for (std::uint64_t n = 1; n <= operations + 1; ++n) {
      SCOPED_TRACE("cut (" + std::string(nand::to_string(mode)) + ") at operation " +
                   std::to_string(n) + " of " + std::to_string(operations));
      rollback();
      const int failures_before = flash_failures_;
      ASSERT_TRUE(injector_->arm_power_cut(n, mode));
      const std::string out = run_upload("new.bin", data);
      const bool ok = out == upload_ok(data);
      if (!ok) {
        EXPECT_NE(out.find("+CME ERROR: 4"), std::string::npos) << out;
        EXPECT_GT(flash_failures_, failures_before) << "the module hears about the flash";
      }
      power_cycle();
      std::string stored;
      if (read_file("new.bin", stored)) {
        EXPECT_EQ(stored, data) << "a visible upload is complete";
        ++complete;
      } else {
        EXPECT_FALSE(ok) << "an acknowledged upload survives";
        ++absent;
      }
      ASSERT_TRUE(read_file("old.txt", stored));
      EXPECT_EQ(stored, "survivor");
      // The module keeps serving, and the name works again.
      const std::string listing = send("AT+QFLST\r");
      EXPECT_EQ(listing.find(".qfupl"), std::string::npos) << listing;
      if (!read_file("new.bin", stored)) {
        EXPECT_EQ(run_upload("new.bin", "x"), upload_ok("x"));
      }
    }
  }
  EXPECT_GT(absent, 0);
  EXPECT_GT(complete, 0);
  RecordProperty("operations", static_cast<int>(operations));
  RecordProperty("absent", absent);
  RecordProperty("complete", complete);
}

TEST_F(PowerCut, StaleUploadLeftoversAreCleanedByTheNextUpload) {
  // Cut in the middle of the data: the temporary file stays on flash.
  const std::string data = random_bytes(20000, 4);
  ASSERT_EQ(send("AT+QFUPL=\"a.bin\",20000\r"), "\r\nCONNECT\r\n");
  send(data.substr(0, 10000));
  chip_->cut_power();
  // The write fails, data mode ends, and the rest of the bytes reach the
  // command parser (as on a module): they earn ERRORs, nothing else.
  (void)engine_->feed(std::string_view(data).substr(10000));
  power_cycle();
  std::string stored;
  EXPECT_FALSE(read_file("a.bin", stored));
  EXPECT_EQ(upload("b.bin", "fresh"), upload_ok("fresh"));
  auto leftovers = fs_->lock()->readdir("/.qfupl");
  ASSERT_TRUE(leftovers);
  EXPECT_TRUE(leftovers->empty()) << leftovers->size() << " stale temporary files";
}

TEST_F(PowerCut, QfwriteKeepsWhatWasAcknowledged) {
  ASSERT_EQ(send("AT+QFOPEN=\"log.txt\",0\r"), "\r\n+QFOPEN: 1\r\n\r\nOK\r\n");
  ASSERT_EQ(send("AT+QFWRITE=1,3\r"), "\r\nCONNECT\r\n");
  ASSERT_EQ(send("abc"), "\r\n+QFWRITE: 3,3\r\n\r\nOK\r\n");
  ASSERT_TRUE(injector_->arm_power_cut(1, nand::CutMode::torn_random));
  ASSERT_EQ(send("AT+QFWRITE=1,3\r"), "\r\nCONNECT\r\n");
  // The write's failure is reported once the last announced byte is in.
  EXPECT_EQ(send("def"), cme(409));
  EXPECT_GT(flash_failures_, 0);
  power_cycle();
  std::string stored;
  ASSERT_TRUE(read_file("log.txt", stored));
  EXPECT_EQ(stored, "abc");
  EXPECT_EQ(send("AT+QFCLOSE=1\r"), cme(416)) << "handles do not survive a power cut";
}

TEST_F(PowerCut, DownloadWhenTheFlashDies) {
  const std::string data = random_bytes(50000, 8);
  put_file("d.bin", data);
  chip_->cut_power();
  const std::string out = drain("AT+QFDWL=\"d.bin\"\r");
  // Refused at open (410) or cut short after CONNECT (411): never a false OK.
  EXPECT_NE(out.find("+CME ERROR: 41"), std::string::npos) << out.substr(0, 40);
  EXPECT_EQ(out.find("+QFDWL:"), std::string::npos);
  // (A power switch thrown by hand is the module's own doing: it needs no
  // report. Cuts that strike a NAND call reach it through the injector.)
  power_cycle();
  EXPECT_EQ(drain("AT+QFDWL=\"d.bin\"\r"), "\r\nCONNECT\r\n" + data + "\r\n+QFDWL: 50000," +
                                               quectel_checksum(data) + "\r\n\r\nOK\r\n");
}

}  // namespace
}  // namespace vmodem::sim::testing
