// ALSA capture + playback pair driven by one thread with blocking read/write (no snd_pcm_link, no
// mmap: works on plugin chains such as plug, file, jack and dmix).
//
// The engine moves one bridge tick (10 ms) at a time; the ALSA period may hold several ticks, so that
// the thread wakes once per period and runs its ticks back to back.
//
// Open() and Close() allocate and run off the audio clock (the engine's control thread); ReadTick(),
// WriteTick() and MeasuredDelay() run on the audio thread.
#pragma once

#include <alsa/asoundlib.h>

#include <string>
#include <vector>

namespace speakerd {

struct AlsaSettings {
  std::string capture = "default";
  std::string playback = "default";
  std::string config_file;  // private ALSA configuration instead of the system's
  unsigned rate = 48000;
  // When not 0: a rate to open both directions at instead of `rate` (the bridge rate, so that nothing
  // resamples), used only when both PCMs take it without converting (not a plug or rate plugin).
  unsigned preferred_rate = 0;
  unsigned capture_channels = 1;
  unsigned playback_channels = 1;
  unsigned tick_frames = 480;  // frames per 10 ms bridge tick at `rate`: what ReadTick and WriteTick move
  unsigned period_ticks = 1;   // ALSA period in ticks: the audio thread wakes once per period
  unsigned buffer_ticks = 4;   // ALSA buffer in ticks (at least two periods)
  unsigned prefill_ticks = 2;  // silent ticks written before playback starts (more than one period)
  int wait_timeout_ms = 250;   // a device that delivers nothing for two of these is treated as lost
};

struct AlsaDeviceInfo {
  std::string name;
  std::string description;
  std::string direction;  // "input", "output" or "duplex"
};

class AlsaDuplex {
 public:
  AlsaDuplex() = default;
  ~AlsaDuplex();
  AlsaDuplex(const AlsaDuplex&) = delete;
  AlsaDuplex& operator=(const AlsaDuplex&) = delete;

  // Opens and configures both directions. On failure returns a negative errno and fills *message
  // with which device failed and ALSA's own words.
  int Open(const AlsaSettings& settings, std::string* message);
  void Close();

  // Reads one tick of interleaved capture frames, waiting only when fewer are available (so the second
  // tick of a two-tick period is read at once). Recovers over-runs (counted in *xruns).
  // Returns 0, or a negative errno when the device is gone.
  int ReadTick(int16_t* interleaved, uint64_t* xruns);
  // Writes one tick of interleaved playback frames, re-priming after an under-run.
  int WriteTick(const int16_t* interleaved, uint64_t* xruns);
  // Writes the silence that gives playback its slack; also used after an under-run.
  int Prefill();
  // Frames between a sample written to playback and its echo appearing in the next capture read,
  // as ALSA reports it (playback queue + capture queue). Negative when unknown.
  long MeasuredDelay();

  // The settings the device was opened with: `rate` and `tick_frames` are the ones in use.
  const AlsaSettings& settings() const { return settings_; }
  // The capture period the device granted, in frames (near tick_frames * period_ticks): the thread
  // wakes once per this many frames.
  unsigned period_frames() const { return period_frames_; }

  static int ListDevices(std::vector<AlsaDeviceInfo>* out, std::string* message);

 private:
  int OpenOne(const std::string& name, snd_pcm_stream_t stream, unsigned channels, snd_pcm_t** pcm,
              std::string* message, bool exact_rate, snd_pcm_uframes_t* granted_period);
  int OpenBoth(std::string* message, bool exact_rate);

  AlsaSettings settings_;
  snd_config_t* config_ = nullptr;
  snd_pcm_t* capture_ = nullptr;
  snd_pcm_t* playback_ = nullptr;
  unsigned period_frames_ = 0;
  std::vector<int16_t> silence_;
};

}  // namespace speakerd
