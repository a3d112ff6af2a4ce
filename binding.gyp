{
  "variables": {
    "speakerd_asan%": 0,
    "speakerd_webrtc%": "<!(pkg-config --exists webrtc-audio-processing-1 && echo 1 || (pkg-config --exists webrtc-audio-processing && echo 0.3) || echo none)"
  },
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
        "native/addon/net_wrap.cc",
        "native/net/net_link.cc",
        "native/engine/engine.cc",
        "native/bridge/conference_bridge.cc",
        "native/device/alsa_duplex.cc",
        "native/dsp/echo_canceller.cc",
        "native/dsp/echo_engine.cc",
        "native/dsp/delay_estimator.cc",
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
        ["speakerd_webrtc=='0.3'", {
          "sources": ["native/dsp/webrtc_echo.cc", "native/dsp/aec2_nlp_ease.cc"],
          "defines": ["SPEAKERD_WEBRTC_APM"],
          "cflags_cc": ["<!@(pkg-config --cflags webrtc-audio-processing | sed s/-I/-isystem/g)"],
          "libraries": ["<!@(pkg-config --libs webrtc-audio-processing)"]
        }],
        ["speakerd_webrtc==1", {
          "sources": ["native/dsp/webrtc_echo.cc"],
          "defines": ["SPEAKERD_WEBRTC_APM", "SPEAKERD_WEBRTC_APM_1"],
          "cflags_cc": ["<!@(pkg-config --cflags webrtc-audio-processing-1 | sed s/-I/-isystem/g)"],
          "libraries": ["<!@(pkg-config --libs webrtc-audio-processing-1)"]
        }],
        ["speakerd_asan==1", {
          "cflags_cc": ["-fsanitize=address", "-fno-omit-frame-pointer"],
          "ldflags": ["-fsanitize=address"]
        }]
      ]
    }
  ]
}
