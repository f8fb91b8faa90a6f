// lib/devices' public surface: the browsers users sign in from, and "remember this device".
export { recognizeDevice, knownDevice, deviceSignedIn, disownDevice, deviceLabels, trustDevice, revokeDeviceTrust, listDevices, TRUSTED_DEVICE_DAYS, type DeviceView, type RecognizedDevice, type KnownDevice } from "./devices";
export { readDeviceToken, writeDeviceToken, DEVICE_COOKIE } from "./cookie";
export { describeDevice } from "./describe";
