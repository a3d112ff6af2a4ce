/*
 * The room of the closed-loop bench: a JACK client between the daemon's loudspeaker and microphone.
 *
 * Port "speaker" receives what the daemon plays (48 kHz); port "mic" is what the daemon captures.
 * In the process callback: the loudspeaker's soft clip (at 48 kHz), decimation to 16 kHz, bulk
 * delay, room impulse response (direct path + exponentially decaying random tail, energy scaled to
 * the echo return loss), plus the user's speech (a raw float32 16 kHz file, started a fixed time after
 * the first audible sample the daemon plays) and white noise, then interpolation back to 48 kHz.
 * The decimator's and interpolator's delays (1.5 ms each) are taken off the bulk delay, so the echo
 * reaches "mic" exactly the bulk delay after it left "speaker"; in the 16 kHz recording (taken after
 * the decimator, before the interpolator) the echo lags the speaker channel by the bulk delay - 3 ms
 * ("recordedLag" in the final JSON line, in samples).
 *
 * Every 16 kHz sample is recorded (raw float32, 5 interleaved channels: speaker as played, echo,
 * user, noise, microphone = echo + user + noise) through a lock-free ring drained by the main thread.
 * Prints "ready" once connected to the server; on SIGTERM/SIGINT drains the ring, prints one JSON
 * line of counters and exits.
 *
 * usage: room-client NAME RECORD_FILE BULK_MS IR_MS RT60_MS ERL_DB CLIP NOISE_DBFS SEED USER_FILE USER_OFFSET_MS
 * (CLIP 0 = no loudspeaker compression; USER_FILE '-' = no user)
 */
#include <jack/jack.h>
#include <jack/ringbuffer.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RATE_IN 48000
#define RATE 16000
#define FACTOR 3
#define FIR_TAPS 145 /* group delay 72 samples at 48 kHz = 24 at 16 kHz */
#define FIR_DELAY16 24
#define CHANNELS 5
#define ACTIVE_LEVEL 0.00316f /* -50 dBFS: the first sample above it starts the user's timeline */
#define MAX_BLOCK 8192

static jack_client_t *client;
static jack_port_t *speaker_port;
static jack_port_t *mic_port;
static jack_ringbuffer_t *ring;
static volatile sig_atomic_t stopping;

static float fir[FIR_TAPS];
static float dec_hist[2 * FIR_TAPS]; /* what the loudspeaker made of the daemon's output */
static float raw_hist[2 * FIR_TAPS]; /* the daemon's output as played */
static int dec_pos;
static int dec_phase;
static float int_hist[2 * (FIR_TAPS / FACTOR + 1)];
static int int_len;
static int int_pos;

static float *ir_reversed;
static int ir_len;
static float *room_hist; /* doubled ring of the loudspeaker at 16 kHz */
static int room_len;
static int room_pos;
static int bulk16;

static float clip_level;
static float noise_rms;
static uint64_t rng_state;
static float *user;
static long user_len;
static long user_offset16;

static long frames16;
static long onset16 = -1;
static long clipped48;
static long active48;
static long dropped16;
static long callbacks;
static volatile long xruns;

static double uniform01(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double gaussian(void) {
  double u = uniform01();
  double v = uniform01();
  return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Windowed-sinc low-pass (Blackman), cutoff 7.2 kHz at 48 kHz, unity DC gain. */
static void design_fir(void) {
  double sum = 0;
  double fc = 7200.0 / RATE_IN;
  for (int n = 0; n < FIR_TAPS; n++) {
    double m = n - (FIR_TAPS - 1) / 2.0;
    double sinc = m == 0 ? 2 * fc : sin(2 * M_PI * fc * m) / (M_PI * m);
    double w = 0.42 - 0.5 * cos(2 * M_PI * n / (FIR_TAPS - 1)) + 0.08 * cos(4 * M_PI * n / (FIR_TAPS - 1));
    fir[n] = (float)(sinc * w);
    sum += sinc * w;
  }
  for (int n = 0; n < FIR_TAPS; n++) fir[n] = (float)(fir[n] / sum);
}

/* Direct path and a Gaussian tail decaying 60 dB per RT60 (about -3 dB of energy re the direct path
 * over a full RT60), total energy 10^(-ERL/10). Stored reversed for the dot product. */
static void design_room(int ir_ms, int rt60_ms, double erl_db) {
  ir_len = ir_ms * RATE / 1000;
  if (ir_len < 1) ir_len = 1;
  double rt60_len = rt60_ms * (double)RATE / 1000.0;
  double tail = sqrt(0.5 / (rt60_len / (6.0 * log(10.0))));
  double *h = calloc((size_t)ir_len, sizeof(double));
  double energy = 0;
  h[0] = 1;
  for (int n = 1; n < ir_len; n++) h[n] = tail * gaussian() * pow(10.0, -3.0 * n / rt60_len);
  for (int n = 0; n < ir_len; n++) energy += h[n] * h[n];
  double scale = pow(10.0, -erl_db / 20.0) / sqrt(energy);
  ir_reversed = calloc((size_t)ir_len, sizeof(float));
  for (int n = 0; n < ir_len; n++) ir_reversed[ir_len - 1 - n] = (float)(h[n] * scale);
  free(h);
}

/* The loudspeaker: linear up to clip_level, then a tanh knee towards full scale. */
static float loudspeaker(float x) {
  if (clip_level <= 0) return x;
  float a = fabsf(x);
  if (a <= clip_level) return x;
  clipped48++;
  float knee = 1.0f - clip_level;
  float y = clip_level + knee * tanhf((a - clip_level) / knee);
  return x < 0 ? -y : y;
}

static float dot(const float *restrict a, const float *restrict b, int n) {
  float sum = 0;
  for (int k = 0; k < n; k++) sum += a[k] * b[k];
  return sum;
}

/* One 16 kHz sample of the room: echo, user, noise and their sum. */
static void room_sample(float speaker16, float loudspeaker16, float *out) {
  room_hist[room_pos] = loudspeaker16;
  room_hist[room_pos + room_len] = loudspeaker16;
  int start = room_pos - bulk16 - ir_len + 1;
  while (start < 0) start += room_len;
  float echo = dot(ir_reversed, room_hist + start, ir_len);
  room_pos = (room_pos + 1) % room_len;
  if (onset16 < 0 && fabsf(speaker16) > ACTIVE_LEVEL) onset16 = frames16;
  float voice = 0;
  if (onset16 >= 0 && user) {
    long at = frames16 - onset16 - user_offset16;
    if (at >= 0 && at < user_len) voice = user[at];
  }
  float noise = (float)(noise_rms * gaussian());
  out[0] = speaker16;
  out[1] = echo;
  out[2] = voice;
  out[3] = noise;
  out[4] = echo + voice + noise;
}

static int process(jack_nframes_t nframes, void *arg) {
  (void)arg;
  const float *in = jack_port_get_buffer(speaker_port, nframes);
  float *out = jack_port_get_buffer(mic_port, nframes);
  callbacks++;
  for (jack_nframes_t i = 0; i < nframes; i++) {
    float x = in[i];
    if (fabsf(x) > ACTIVE_LEVEL) active48++;
    float played = loudspeaker(x);
    dec_hist[dec_pos] = played;
    dec_hist[dec_pos + FIR_TAPS] = played;
    raw_hist[dec_pos] = x;
    raw_hist[dec_pos + FIR_TAPS] = x;
    dec_pos = (dec_pos + 1) % FIR_TAPS;
    if (++dec_phase == FACTOR) {
      dec_phase = 0;
      /* fir is symmetric, so the forward window serves as the convolution. */
      float rec[CHANNELS];
      float speaker16 = dot(fir, raw_hist + dec_pos, FIR_TAPS);
      room_sample(speaker16, clip_level > 0 ? dot(fir, dec_hist + dec_pos, FIR_TAPS) : speaker16, rec);
      if (jack_ringbuffer_write_space(ring) >= sizeof rec)
        jack_ringbuffer_write(ring, (const char *)rec, sizeof rec);
      else
        dropped16++;
      frames16++;
      int_hist[int_pos] = rec[4];
      int_hist[int_pos + int_len] = rec[4];
      int_pos = (int_pos + 1) % int_len;
    }
    /* Polyphase interpolation: output phase p uses taps p, p+3, ... of the 48 kHz filter. */
    int phase = dec_phase;
    float y = 0;
    int newest = (int_pos + int_len - 1) % int_len;
    for (int k = phase, j = 0; k < FIR_TAPS; k += FACTOR, j++) y += fir[k] * int_hist[newest - j + int_len];
    out[i] = FACTOR * y;
  }
  return 0;
}

static int on_xrun(void *arg) {
  (void)arg;
  xruns++;
  return 0;
}

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void drain(FILE *file) {
  char buffer[65536];
  size_t n;
  while ((n = jack_ringbuffer_read(ring, buffer, sizeof buffer)) > 0) fwrite(buffer, 1, n, file);
}

static float *read_user(const char *path, long *length) {
  if (strcmp(path, "-") == 0) return NULL;
  FILE *file = fopen(path, "rb");
  if (!file) {
    fprintf(stderr, "room-client: cannot open %s\n", path);
    exit(2);
  }
  fseek(file, 0, SEEK_END);
  long bytes = ftell(file);
  fseek(file, 0, SEEK_SET);
  float *samples = malloc((size_t)bytes + sizeof(float));
  *length = (long)fread(samples, sizeof(float), (size_t)bytes / sizeof(float), file);
  fclose(file);
  return samples;
}

int main(int argc, char **argv) {
  if (argc != 12) {
    fprintf(stderr,
            "usage: room-client NAME RECORD_FILE BULK_MS IR_MS RT60_MS ERL_DB CLIP NOISE_DBFS SEED USER_FILE "
            "USER_OFFSET_MS\n");
    return 2;
  }
  const char *name = argv[1];
  FILE *record = fopen(argv[2], "wb");
  if (!record) {
    fprintf(stderr, "room-client: cannot write %s\n", argv[2]);
    return 2;
  }
  int bulk_ms = atoi(argv[3]);
  rng_state = (uint64_t)strtoull(argv[9], NULL, 10) * 0x9E3779B97F4A7C15ull + 1;
  design_fir();
  design_room(atoi(argv[4]), atoi(argv[5]), atof(argv[6]));
  clip_level = (float)atof(argv[7]);
  noise_rms = (float)pow(10.0, atof(argv[8]) / 20.0);
  user = read_user(argv[10], &user_len);
  user_offset16 = atol(argv[11]) * RATE / 1000;
  bulk16 = bulk_ms * RATE / 1000 - 2 * FIR_DELAY16;
  if (bulk16 < 0) {
    fprintf(stderr, "room-client: bulk delay must be at least %d ms\n", 2 * FIR_DELAY16 * 1000 / RATE);
    return 2;
  }
  room_len = ir_len + bulk16 + 1;
  room_hist = calloc(2 * (size_t)room_len, sizeof(float));
  int_len = FIR_TAPS / FACTOR + 1;
  ring = jack_ringbuffer_create(1 << 24);

  jack_status_t status;
  client = jack_client_open(name, JackNoStartServer, &status);
  if (!client) {
    fprintf(stderr, "room-client: no JACK server (status 0x%x)\n", (unsigned)status);
    return 1;
  }
  if (jack_get_sample_rate(client) != RATE_IN || jack_get_buffer_size(client) % FACTOR != 0 ||
      jack_get_buffer_size(client) > MAX_BLOCK) {
    fprintf(stderr, "room-client: needs 48 kHz and periods of a multiple of 3 frames\n");
    return 1;
  }
  speaker_port = jack_port_register(client, "speaker", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
  mic_port = jack_port_register(client, "mic", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
  jack_set_process_callback(client, process, NULL);
  jack_set_xrun_callback(client, on_xrun, NULL);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  if (jack_activate(client) != 0) {
    fprintf(stderr, "room-client: cannot activate\n");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  while (!stopping) {
    drain(record);
    usleep(20000);
  }
  jack_deactivate(client);
  drain(record);
  fclose(record);
  printf(
      "{\"rate\":%d,\"frames\":%ld,\"onset\":%ld,\"clipped48\":%ld,\"active48\":%ld,\"dropped\":%ld,"
      "\"callbacks\":%ld,\"xruns\":%ld,\"recordedLag\":%d,\"irLength\":%d}\n",
      RATE, frames16, onset16, clipped48, active48, dropped16, callbacks, (long)xruns, bulk16, ir_len);
  jack_client_close(client);
  return 0;
}
