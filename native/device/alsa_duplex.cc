#include "alsa_duplex.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace speakerd {

namespace {

// Largest private ALSA configuration read (the same limit as the daemon's configuration check).
constexpr off_t kMaxAlsaConfigBytes = 1024 * 1024;

bool IsRecoverable(int err) { return err == -EPIPE || err == -ESTRPIPE || err == -EINTR; }

std::string Describe(const std::string& what, const std::string& device, int err) {
  return what + " '" + device + "': " + snd_strerror(err);
}

}  // namespace

AlsaDuplex::~AlsaDuplex() { Close(); }

// `exact_rate`: refuse (-EINVAL) a PCM that would convert the rate itself (plug, rate) or that does not
// take settings_.rate as it is.
int AlsaDuplex::OpenOne(const std::string& name, snd_pcm_stream_t stream, unsigned channels, snd_pcm_t** pcm,
                        std::string* message, bool exact_rate, snd_pcm_uframes_t* granted_period) {
  const bool capture = stream == SND_PCM_STREAM_CAPTURE;
  const char* what = capture ? "capture device" : "playback device";
  int err = config_ != nullptr ? snd_pcm_open_lconf(pcm, name.c_str(), stream, 0, config_)
                               : snd_pcm_open(pcm, name.c_str(), stream, 0);
  if (err < 0) {
    *pcm = nullptr;
    *message = Describe(std::string("cannot open ") + what, name, err);
    return err;
  }
  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  snd_pcm_uframes_t period = static_cast<snd_pcm_uframes_t>(settings_.tick_frames) * settings_.period_ticks;
  snd_pcm_uframes_t buffer = static_cast<snd_pcm_uframes_t>(settings_.tick_frames) * settings_.buffer_ticks;
  unsigned rate = settings_.rate;
  const char* step = "no configuration";
  if ((err = snd_pcm_hw_params_any(*pcm, hw)) < 0) goto fail;
  step = "interleaved read/write access";
  if ((err = snd_pcm_hw_params_set_access(*pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0) goto fail;
  step = "format S16_LE";
  if ((err = snd_pcm_hw_params_set_format(*pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0) goto fail;
  step = "channel count";
  if ((err = snd_pcm_hw_params_set_channels(*pcm, hw, channels)) < 0) goto fail;
  step = "sample rate";
  if (exact_rate) {
    const snd_pcm_type_t type = snd_pcm_type(*pcm);
    if (type == SND_PCM_TYPE_PLUG || type == SND_PCM_TYPE_RATE) {
      err = -EINVAL;
      goto fail;
    }
    if ((err = snd_pcm_hw_params_test_rate(*pcm, hw, rate, 0)) < 0) goto fail;
  }
  if ((err = snd_pcm_hw_params_set_rate(*pcm, hw, rate, 0)) < 0) goto fail;
  step = "period size";
  if ((err = snd_pcm_hw_params_set_period_size_near(*pcm, hw, &period, nullptr)) < 0) goto fail;
  step = "buffer size";
  if ((err = snd_pcm_hw_params_set_buffer_size_near(*pcm, hw, &buffer)) < 0) goto fail;
  step = "hardware parameters";
  if ((err = snd_pcm_hw_params(*pcm, hw)) < 0) goto fail;
  // The period the device granted (near the one asked for): poll wakes the thread once per period.
  if ((err = snd_pcm_hw_params_get_period_size(hw, &period, nullptr)) < 0) goto fail;
  {
    snd_pcm_sw_params_t* sw;
    snd_pcm_sw_params_alloca(&sw);
    step = "software parameters";
    if ((err = snd_pcm_sw_params_current(*pcm, sw)) < 0) goto fail;
    const snd_pcm_uframes_t start =
        capture ? 1 : static_cast<snd_pcm_uframes_t>(settings_.tick_frames) * settings_.prefill_ticks;
    if ((err = snd_pcm_sw_params_set_start_threshold(*pcm, sw, start)) < 0) goto fail;
    if ((err = snd_pcm_sw_params_set_avail_min(*pcm, sw, period)) < 0) goto fail;
    if ((err = snd_pcm_sw_params(*pcm, sw)) < 0) goto fail;
  }
  *granted_period = period;
  return 0;
fail:
  *message = Describe(std::string("cannot set ") + step + " (" + std::to_string(channels) + " ch, " +
                          std::to_string(settings_.rate) + " Hz) on " + what,
                      name, err);
  snd_pcm_close(*pcm);
  *pcm = nullptr;
  return err;
}

int AlsaDuplex::Open(const AlsaSettings& settings, std::string* message) {
  Close();
  settings_ = settings;
  if (!settings.config_file.empty()) {
    // Opened without blocking (a FIFO nobody writes would hang this thread), and only a regular file
    // of bounded size is read: the path comes from configuration (see docs/security.md).
    const int fd = open(settings.config_file.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      const int err = -errno;
      *message = "cannot read ALSA configuration '" + settings.config_file + "': " + snd_strerror(err);
      return err;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxAlsaConfigBytes) {
      close(fd);
      *message = "cannot read ALSA configuration '" + settings.config_file + "': not a regular file of at most 1 MiB";
      return -EINVAL;
    }
    const int flags = fcntl(fd, F_GETFL);
    FILE* f = flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ? nullptr : fdopen(fd, "r");
    if (f == nullptr) {
      const int err = -errno;
      close(fd);
      *message = "cannot read ALSA configuration '" + settings.config_file + "': " + snd_strerror(err);
      return err;
    }
    snd_input_t* in = nullptr;
    int err = snd_input_stdio_attach(&in, f, 1);
    if (err < 0) std::fclose(f);  // attach failed: the FILE was not handed over
    if (err >= 0) err = snd_config_top(&config_);
    if (err >= 0) err = snd_config_load(config_, in);
    if (in != nullptr) snd_input_close(in);
    if (err < 0) {
      *message = "cannot parse ALSA configuration '" + settings.config_file + "': " + snd_strerror(err);
      Close();
      return err;
    }
  }
  int err = -EINVAL;
  if (settings.preferred_rate != 0 && settings.preferred_rate != settings.rate) {
    // The bridge rate first: when both directions take it as it is, nothing resamples at all.
    settings_.rate = settings.preferred_rate;
    settings_.tick_frames = settings.preferred_rate / 100;
    std::string ignored;
    err = OpenBoth(&ignored, true);
    if (err < 0) {
      settings_.rate = settings.rate;
      settings_.tick_frames = settings.tick_frames;
    }
  }
  if (err < 0) err = OpenBoth(message, false);
  if (err < 0) {
    Close();
    return err;
  }
  silence_.assign(static_cast<size_t>(settings_.tick_frames) * settings_.playback_channels, 0);
  return 0;
}

int AlsaDuplex::OpenBoth(std::string* message, bool exact_rate) {
  snd_pcm_uframes_t capture_period = 0;
  snd_pcm_uframes_t playback_period = 0;
  int err = OpenOne(settings_.capture, SND_PCM_STREAM_CAPTURE, settings_.capture_channels, &capture_, message,
                    exact_rate, &capture_period);
  if (err >= 0) {
    err = OpenOne(settings_.playback, SND_PCM_STREAM_PLAYBACK, settings_.playback_channels, &playback_, message,
                  exact_rate, &playback_period);
  }
  period_frames_ = err >= 0 ? static_cast<unsigned>(capture_period) : 0;
  if (err < 0) {
    if (capture_ != nullptr) snd_pcm_close(capture_);
    if (playback_ != nullptr) snd_pcm_close(playback_);
    capture_ = playback_ = nullptr;
  }
  return err;
}

void AlsaDuplex::Close() {
  if (capture_ != nullptr) snd_pcm_close(capture_);
  if (playback_ != nullptr) snd_pcm_close(playback_);
  if (config_ != nullptr) snd_config_delete(config_);
  capture_ = playback_ = nullptr;
  config_ = nullptr;
  period_frames_ = 0;
}

int AlsaDuplex::ReadTick(int16_t* interleaved, uint64_t* xruns) {
  snd_pcm_uframes_t done = 0;
  const snd_pcm_uframes_t want = settings_.tick_frames;
  int timeouts = 0;
  while (done < want) {
    // A stopped stream is started by readi itself (start threshold 1); only a running one is waited on,
    // and only while it holds less than the rest of the tick (snd_pcm_wait would wait for a whole
    // period). A negative avail (an over-run) goes on to readi, which reports it.
    const bool waits = snd_pcm_state(capture_) == SND_PCM_STATE_RUNNING &&
                       snd_pcm_avail_update(capture_) < static_cast<snd_pcm_sframes_t>(want - done);
    const int ready = waits ? snd_pcm_wait(capture_, settings_.wait_timeout_ms) : 1;
    if (ready == 0) {
      if (++timeouts >= 2) return -ETIMEDOUT;
      continue;
    }
    snd_pcm_sframes_t n = snd_pcm_readi(capture_, interleaved + done * settings_.capture_channels, want - done);
    if (n == -EAGAIN) continue;
    if (n < 0) {
      if (!IsRecoverable(static_cast<int>(n))) return static_cast<int>(n);
      ++*xruns;
      const int err = snd_pcm_recover(capture_, static_cast<int>(n), 1);
      if (err < 0) return err;
      continue;
    }
    done += static_cast<snd_pcm_uframes_t>(n);
  }
  return 0;
}

int AlsaDuplex::WriteTick(const int16_t* interleaved, uint64_t* xruns) {
  snd_pcm_uframes_t done = 0;
  const snd_pcm_uframes_t want = settings_.tick_frames;
  while (done < want) {
    snd_pcm_sframes_t n = snd_pcm_writei(playback_, interleaved + done * settings_.playback_channels, want - done);
    if (n == -EAGAIN) continue;
    if (n < 0) {
      if (!IsRecoverable(static_cast<int>(n))) return static_cast<int>(n);
      ++*xruns;
      const int err = snd_pcm_recover(playback_, static_cast<int>(n), 1);
      if (err < 0) return err;
      const int primed = Prefill();
      if (primed < 0) return primed;
      continue;
    }
    done += static_cast<snd_pcm_uframes_t>(n);
  }
  return 0;
}

int AlsaDuplex::Prefill() {
  for (unsigned i = 0; i < settings_.prefill_ticks; ++i) {
    const snd_pcm_sframes_t n = snd_pcm_writei(playback_, silence_.data(), settings_.tick_frames);
    if (n < 0) return static_cast<int>(n);
  }
  return 0;
}

long AlsaDuplex::MeasuredDelay() {
  snd_pcm_sframes_t playback = 0;
  snd_pcm_sframes_t capture = 0;
  if (snd_pcm_delay(playback_, &playback) < 0) return -1;
  if (snd_pcm_delay(capture_, &capture) < 0) capture = 0;
  return static_cast<long>(playback + (capture > 0 ? capture : 0));
}

int AlsaDuplex::ListDevices(std::vector<AlsaDeviceInfo>* out, std::string* message) {
  void** hints = nullptr;
  const int err = snd_device_name_hint(-1, "pcm", &hints);
  if (err < 0) {
    *message = std::string("cannot list ALSA devices: ") + snd_strerror(err);
    return err;
  }
  for (void** h = hints; *h != nullptr; ++h) {
    char* name = snd_device_name_get_hint(*h, "NAME");
    char* desc = snd_device_name_get_hint(*h, "DESC");
    char* io = snd_device_name_get_hint(*h, "IOID");
    if (name != nullptr) {
      AlsaDeviceInfo info;
      info.name = name;
      info.description = desc != nullptr ? desc : "";
      info.direction = io == nullptr ? "duplex" : (std::string(io) == "Input" ? "input" : "output");
      out->push_back(info);
    }
    free(name);
    free(desc);
    free(io);
  }
  snd_device_name_free_hint(hints);
  return 0;
}

}  // namespace speakerd
