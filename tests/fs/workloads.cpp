// The standard power-loss workloads: create, rewrite, append, rename,
// delete, many small files, fill to full, GC-heavy churn, fsync.
#include "powerloss.hpp"

namespace vmodem::fs::testing {

namespace {

std::string n(const char* prefix, std::uint32_t i) {
  return prefix + std::to_string(i);
}

}  // namespace

std::vector<Workload> standard_workloads() {
  std::vector<Workload> w;
  w.push_back({"create", 12, 64, nullptr, [](Runner& r) {
                 for (std::uint32_t i = 0; i < 5; ++i)
                   if (!r.write_file(n("/c", i), bytes(700 * i + 100, i))) return;
                 if (!r.mkdir("/dir")) return;
                 r.write_file("/dir/x", bytes(5000, 9));
               }});
  w.push_back({"rewrite", 12, 64,
               [](Runner& r) {
                 r.write_file("/a", bytes(6000, 1));
                 r.write_file("/b", bytes(300, 2));
                 r.write_file("/c", bytes(9000, 3));
               },
               [](Runner& r) {
                 if (!r.write_file("/a", bytes(300, 11))) return;
                 if (!r.write_file("/b", bytes(7000, 12))) return;
                 if (!r.write_file("/c", bytes(9000, 13))) return;
                 r.write_file("/a", bytes(4100, 14));
               }});
  w.push_back({"append", 12, 64, [](Runner& r) { r.write_file("/log", bytes(1000, 1)); },
               [](Runner& r) {
                 for (std::uint32_t i = 0; i < 5; ++i)
                   if (!r.append("/log", bytes(700, 20 + i))) return;
               }});
  w.push_back({"rename", 12, 64,
               [](Runner& r) {
                 r.write_file("/a", bytes(3000, 1));
                 r.write_file("/b", bytes(2500, 2));
                 r.mkdir("/d");
                 r.write_file("/d/x", bytes(100, 3));
               },
               [](Runner& r) {
                 if (!r.rename("/a", "/d/a")) return;
                 if (!r.rename("/b", "/d/x")) return;
                 if (!r.rename("/d", "/e")) return;
                 r.rename("/e/a", "/b");
               }});
  w.push_back({"delete", 12, 64,
               [](Runner& r) {
                 r.mkdir("/d");
                 for (std::uint32_t i = 0; i < 4; ++i)
                   r.write_file(n("/f", i), bytes(1500 * i + 10, i));
                 r.write_file("/d/a", bytes(100, 7));
               },
               [](Runner& r) {
                 for (std::uint32_t i = 0; i < 4; ++i)
                   if (!r.unlink(n("/f", i))) return;
                 if (!r.unlink("/d/a")) return;
                 r.rmdir("/d");
               }});
  w.push_back({"small_files", 12, 64, nullptr, [](Runner& r) {
                 for (std::uint32_t d = 0; d < 3; ++d) {
                   if (!r.mkdir(n("/d", d))) return;
                   for (std::uint32_t i = 0; i < 8; ++i)
                     if (!r.write_file(n("/d", d) + n("/s", i), bytes(50 + 20 * i, d * 10 + i)))
                       return;
                 }
               }});
  w.push_back({"fill", 7, 16, [](Runner& r) { r.write_file("/keep", bytes(3000, 1)); },
               [](Runner& r) {
                 for (std::uint32_t i = 0; i < 10; ++i)
                   if (!r.write_file(n("/f", i), bytes(9000, 10 + i))) return;
                 if (!r.unlink("/f0")) return;
                 r.write_file("/f0", bytes(5000, 30));
               }});
  w.push_back({"churn", 8, 16,
               [](Runner& r) {
                 for (std::uint32_t i = 0; i < 3; ++i)
                   r.write_file(n("/h", i), bytes(4000, i));
               },
               [](Runner& r) {
                 for (std::uint32_t i = 0; i < 60; ++i)
                   if (!r.write_file(n("/h", i % 3), bytes(3000 + 700 * (i % 5), 100 + i))) return;
               }});
  w.push_back({"fsync", 12, 64, [](Runner& r) { r.write_file("/old", bytes(5000, 1)); },
               [](Runner& r) {
                 if (!r.write_with_fsync("/new", bytes(7000, 2))) return;
                 r.write_with_fsync("/old", bytes(6000, 3));
               }});
  return w;
}

}  // namespace vmodem::fs::testing
