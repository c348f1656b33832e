// Clang thread-safety annotations, and the mutex they know.
//
// The classes shared between threads (the module's flash, a mounted file
// system) say which lock guards what; built with clang and -Wthread-safety
// (the fuzz preset, or any clang build: cmake/VmodemOptions.cmake), the
// compiler refuses an access without the lock. Other compilers see nothing.
// std::mutex carries no annotations in libstdc++, hence Mutex and MutexLock.
#pragma once

#include <mutex>

#if defined(__clang__)
#define VMODEM_TSA(x) __attribute__((x))
#else
#define VMODEM_TSA(x)
#endif

#define VMODEM_CAPABILITY(name) VMODEM_TSA(capability(name))
#define VMODEM_SCOPED_CAPABILITY VMODEM_TSA(scoped_lockable)
#define VMODEM_GUARDED_BY(m) VMODEM_TSA(guarded_by(m))
#define VMODEM_PT_GUARDED_BY(m) VMODEM_TSA(pt_guarded_by(m))
#define VMODEM_REQUIRES(...) VMODEM_TSA(requires_capability(__VA_ARGS__))
#define VMODEM_EXCLUDES(...) VMODEM_TSA(locks_excluded(__VA_ARGS__))
#define VMODEM_ACQUIRE(...) VMODEM_TSA(acquire_capability(__VA_ARGS__))
#define VMODEM_RELEASE(...) VMODEM_TSA(release_capability(__VA_ARGS__))
#define VMODEM_RETURN_CAPABILITY(m) VMODEM_TSA(lock_returned(m))
#define VMODEM_NO_THREAD_SAFETY_ANALYSIS VMODEM_TSA(no_thread_safety_analysis)

namespace vmodem::nand {

// A std::mutex the analysis knows.
class VMODEM_CAPABILITY("mutex") Mutex {
 public:
  void lock() VMODEM_ACQUIRE() { mutex_.lock(); }
  void unlock() VMODEM_RELEASE() { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

// Holds a Mutex for its lifetime. Not movable: an access handed out with
// its lock (SharedDevice::lock) is returned as a prvalue, never moved.
class VMODEM_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) VMODEM_ACQUIRE(mutex) : mutex_(mutex) { mutex.lock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() VMODEM_RELEASE() { mutex_.unlock(); }

 private:
  Mutex& mutex_;
};

}  // namespace vmodem::nand
