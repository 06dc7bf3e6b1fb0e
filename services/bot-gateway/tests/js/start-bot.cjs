// Calls the gateway's /api/start through the real @pipecat-ai/client-js, the way
// the web app does, and prints what the client returned or threw, as JSON.
//
//   node start-bot.cjs <node_modules dir> <endpoint> <bearer token> [requestData JSON]
//
// Node has no media stack, so the transport is a no-op (startBot needs none);
// see ../shared/pipecat-start-api.md §3.
"use strict";
const path = require("node:path");
const [modulesDir, endpoint, token, requestJson] = process.argv.slice(2);
globalThis.window ??= {};
const { PipecatClient, Transport, StartBotError } = require(path.join(modulesDir, "@pipecat-ai/client-js"));

class NoopTransport extends Transport {
  constructor() { super(); this._state = "disconnected"; }
  initialize() {}
  async initDevices() {}
  _validateConnectionParams(p) { return p; }
  async _connect() {}
  async _disconnect() {}
  sendReadyMessage() {}
  get state() { return this._state; }
  set state(s) { this._state = s; }
  async getAllMics() { return []; }
  async getAllCams() { return []; }
  async getAllSpeakers() { return []; }
  updateMic() {}
  updateCam() {}
  updateSpeaker() {}
  get selectedMic() { return {}; }
  get selectedCam() { return {}; }
  get selectedSpeaker() { return {}; }
  enableMic() {}
  enableCam() {}
  enableScreenShare() {}
  get isCamEnabled() { return false; }
  get isMicEnabled() { return false; }
  get isSharingScreen() { return false; }
  sendMessage() {}
  tracks() { return { local: {}, bot: {} }; }
}

(async () => {
  const client = new PipecatClient({ transport: new NoopTransport(), enableMic: false, enableCam: false });
  const params = { endpoint, headers: new Headers({ Authorization: `Bearer ${token}` }), timeout: 30000 };
  if (requestJson) params.requestData = JSON.parse(requestJson);
  try {
    const result = await client.startBot(params);
    console.log(JSON.stringify({ ok: true, result }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, startBotError: e instanceof StartBotError, status: e.status ?? null, message: e.message ?? String(e) }));
  }
})();
