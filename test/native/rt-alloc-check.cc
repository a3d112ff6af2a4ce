// Counts heap allocations (malloc, calloc, realloc, operator new: every path ends in these) made by the
// echo engines and the delay estimator after construction, while they process, reset and process
// again. Prints one line per block, "<name> <allocations>" (and, as a check that the counter sees the
// libraries' allocations, "<engine>-construction <allocations>"), and exits 0; test/build/rt-alloc.test.ts
// builds and runs it. The counter interposes the C allocator for the whole process, shared libraries
// (speexdsp, webrtc-audio-processing) included.
#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "../../native/dsp/delay_estimator.h"
#include "../../native/dsp/echo_engine.h"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
}

static std::atomic<long> g_allocations{0};
static std::atomic<bool> g_counting{false};

extern "C" void* malloc(size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t n, size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return __libc_calloc(n, size);
}
extern "C" void* realloc(void* p, size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return __libc_realloc(p, size);
}

namespace {

constexpr int kRate = 16000;
constexpr int kFrame = 160;
constexpr int kFrames = 600;  // 6 s

// A deterministic far end (a chirpy buzz) and its echo 40 ms later plus a quieter near end, at `rate`.
void MakeSignals(std::vector<int16_t>* far, std::vector<int16_t>* mic, int rate = kRate) {
  const int n = rate / 100 * kFrames;
  const int delay = rate / 25;
  far->assign(n, 0);
  mic->assign(n, 0);
  unsigned seed = 12345;
  for (int i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    const int noise = static_cast<int>((seed >> 16) & 0x7fff) - 16384;
    (*far)[i] = static_cast<int16_t>(((i / (rate / 4)) % 2 == 0) ? noise / 4 : 0);
  }
  for (int i = delay; i < n; ++i) (*mic)[i] = static_cast<int16_t>((*far)[i - delay] / 2 + ((i * 7) % 200) - 100);
}

// `cut_db` above kNearTalkNotEased: the engine eases its suppressor for the user (told so for the
// middle half of the frames).
long CountEngine(speakerd::EchoEngineKind kind, const std::vector<int16_t>& far, const std::vector<int16_t>& mic,
                 int rate = kRate, const char* label = nullptr, int cut_db = speakerd::kNearTalkNotEased) {
  speakerd::EchoSettings settings;
  settings.rate = rate;
  settings.frame = rate / 100;
  settings.near_talk_max_cut_db = cut_db;
  const int frame = settings.frame;
  g_allocations = 0;
  g_counting = true;
  auto engine = speakerd::CreateEchoEngine(kind, settings);
  g_counting = false;
  std::printf("%s-construction %ld\n", label != nullptr ? label : engine->name(), g_allocations.load());
  std::vector<int16_t> out(frame);
  g_allocations = 0;
  g_counting = true;
  for (int f = 0; f < kFrames; ++f) {
    if (f == kFrames / 2) engine->Reset();
    engine->SetNearTalk(f >= kFrames / 4 && f < 3 * kFrames / 4);
    engine->Process(mic.data() + f * frame, far.data() + f * frame, out.data());
  }
  g_counting = false;
  return g_allocations.load();
}

long CountEstimator(const std::vector<int16_t>& far, const std::vector<int16_t>& mic) {
  speakerd::DelayEstimator estimator{speakerd::DelayEstimatorSettings{}};
  g_allocations = 0;
  g_counting = true;
  for (int f = 0; f < kFrames; ++f) {
    if (f == kFrames / 2) estimator.Reset();
    estimator.Process(mic.data() + f * kFrame, far.data() + f * kFrame);
  }
  g_counting = false;
  return g_allocations.load();
}

}  // namespace

int main() {
  std::vector<int16_t> far;
  std::vector<int16_t> mic;
  MakeSignals(&far, &mic);
  // A sanity check that the counter sees allocations at all.
  g_counting = true;
  void* volatile probe = std::malloc(64);
  g_counting = false;
  std::free(probe);
  std::printf("probe %ld\n", g_allocations.load());
  std::printf("speex %ld\n", CountEngine(speakerd::EchoEngineKind::kSpeex, far, mic));
  if (speakerd::EchoEngineBuilt(speakerd::EchoEngineKind::kWebrtc)) {
    std::printf("webrtc %ld\n", CountEngine(speakerd::EchoEngineKind::kWebrtc, far, mic));
    std::printf("webrtc-eased %ld\n",
                CountEngine(speakerd::EchoEngineKind::kWebrtc, far, mic, kRate, "webrtc-eased", -3));
    // 48 kHz: the full band split into bands inside the library (a path 16 kHz does not take).
    std::vector<int16_t> far48;
    std::vector<int16_t> mic48;
    MakeSignals(&far48, &mic48, 48000);
    std::printf("webrtc-48k %ld\n", CountEngine(speakerd::EchoEngineKind::kWebrtc, far48, mic48, 48000, "webrtc-48k"));
  }
  std::printf("delay-estimator %ld\n", CountEstimator(far, mic));
  return 0;
}
