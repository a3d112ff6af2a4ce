// Argument checking for the binding: programmer errors throw TypeError/RangeError naming the argument;
// runtime failures throw Error with a stable `code`.
#pragma once

#include <napi.h>

#include <string>

namespace speakerd {

inline Napi::Error CodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, code));
  return error;
}

inline double RequireNumber(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  }
  return info[index].As<Napi::Number>().DoubleValue();
}

inline int RequireInt(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max) {
  const double value = RequireNumber(info, index, name);
  if (value != static_cast<double>(static_cast<long long>(value)) || value < min || value > max) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer from " + std::to_string(min) +
                                                " to " + std::to_string(max));
  }
  return static_cast<int>(value);
}

inline bool RequireBool(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a boolean");
  }
  return info[index].As<Napi::Boolean>().Value();
}

inline Napi::Int16Array RequireInt16Array(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an Int16Array");
  }
  return info[index].As<Napi::Int16Array>();
}

// An optional typed array argument with one value per frame: empty when absent or undefined, else it
// must be a `T` (`type`) of exactly `frames` elements.
template <typename T>
T OptionalFrameArray(const Napi::CallbackInfo& info, size_t index, size_t frames, napi_typedarray_type type,
                     const char* name, const char* type_name) {
  if (info.Length() <= index || info[index].IsUndefined()) return T();
  if (!info[index].IsTypedArray() || info[index].As<Napi::TypedArray>().TypedArrayType() != type ||
      info[index].As<T>().ElementLength() != frames) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a " + type_name + " with one value per frame");
  }
  return info[index].As<T>();
}

// Reads an option from an object, checking its type and range.
inline int OptionInt(const Napi::Object& obj, const char* key, int fallback, int min, int max) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string("options.") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<long long>(d)) || d < min || d > max) {
    throw Napi::RangeError::New(obj.Env(), std::string("options.") + key + " must be an integer from " +
                                               std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int>(d);
}

inline bool OptionBool(const Napi::Object& obj, const char* key, bool fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(obj.Env(), std::string("options.") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline std::string OptionString(const Napi::Object& obj, const char* key, const std::string& fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) throw Napi::TypeError::New(obj.Env(), std::string("options.") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

}  // namespace speakerd
