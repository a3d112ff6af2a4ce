{
  "variables": { "speakerd_asan%": 0 },
  "targets": [
    {
      "target_name": "speakerd",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/engine_wrap.cc",
        "native/addon/dsp_wrap.cc",
        "native/addon/notify.cc",
        "native/addon/spi.cc",
        "native/addon/evdev.cc",
        "native/addon/watchdog.cc",
        "native/engine/engine.cc",
        "native/bridge/conference_bridge.cc",
        "native/device/alsa_duplex.cc",
        "native/dsp/echo_canceller.cc",
        "native/dsp/double_talk.cc",
        "native/dsp/residual_suppressor.cc",
        "native/dsp/agc.cc",
        "native/dsp/echo_post_filter.cc",
        "native/dsp/playback_shaper.cc",
        "native/dsp/resampler.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Werror", "-O2"],
      "libraries": ["<!@(pkg-config --libs alsa speexdsp)"],
      "conditions": [
        ["speakerd_asan==1", {
          "cflags_cc": ["-fsanitize=address", "-fno-omit-frame-pointer"],
          "ldflags": ["-fsanitize=address"]
        }]
      ]
    }
  ]
}
