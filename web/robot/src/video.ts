/**
 * The robot's camera as a WebRTC viewer of its Kinesis Video Streams signaling channel (the
 * robot is the master): the channel's endpoints, its ICE servers, then an offer to receive
 * video and audio through the KVS WebRTC SDK's SignalingClient.
 */
import { GetSignalingChannelEndpointCommand, KinesisVideoClient } from "@aws-sdk/client-kinesis-video";
import { GetIceServerConfigCommand, KinesisVideoSignalingClient } from "@aws-sdk/client-kinesis-video-signaling";
import { randomSuffix, type CredentialSource } from "@srs/web-common";
import { Role, SignalingClient } from "amazon-kinesis-video-streams-webrtc";

export type VideoStatus = "connecting" | "playing" | "disconnected" | "failed";

export interface ViewerOptions {
  channelArn: string;
  region: string;
  credentials: CredentialSource;
  onStatus: (status: VideoStatus, detail?: string) => void;
}

/** Starts watching; resolves to a function that stops and releases everything. */
export async function startViewer(video: HTMLVideoElement, options: ViewerOptions): Promise<() => void> {
  const { channelArn, region, credentials, onStatus } = options;
  onStatus("connecting");
  const kinesisVideo = new KinesisVideoClient({ region, credentials });
  const endpoints = await kinesisVideo.send(new GetSignalingChannelEndpointCommand({
    ChannelARN: channelArn,
    SingleMasterChannelEndpointConfiguration: { Protocols: ["WSS", "HTTPS"], Role: Role.VIEWER },
  }));
  const byProtocol = Object.fromEntries((endpoints.ResourceEndpointList ?? []).map((e) => [e.Protocol, e.ResourceEndpoint]));
  if (!byProtocol.WSS || !byProtocol.HTTPS) throw new Error("the signaling channel has no WSS or HTTPS endpoint");
  const signalingChannels = new KinesisVideoSignalingClient({ region, credentials, endpoint: byProtocol.HTTPS });
  const ice = await signalingChannels.send(new GetIceServerConfigCommand({ ChannelARN: channelArn }));
  const iceServers: RTCIceServer[] = [{ urls: `stun:stun.kinesisvideo.${region}.amazonaws.com:443` }];
  for (const server of ice.IceServerList ?? []) {
    iceServers.push({ urls: server.Uris ?? [], username: server.Username, credential: server.Password });
  }

  const peer = new RTCPeerConnection({ iceServers });
  const current = await credentials();
  const signaling = new SignalingClient({
    channelARN: channelArn,
    channelEndpoint: byProtocol.WSS,
    clientId: `viewer-${randomSuffix()}`,
    role: Role.VIEWER,
    region,
    credentials: { accessKeyId: current.accessKeyId, secretAccessKey: current.secretAccessKey, sessionToken: current.sessionToken },
    systemClockOffset: kinesisVideo.config.systemClockOffset,
  });

  signaling.on("open", async () => {
    peer.addTransceiver("video", { direction: "recvonly" });
    peer.addTransceiver("audio", { direction: "recvonly" });
    await peer.setLocalDescription(await peer.createOffer());
    if (peer.localDescription) signaling.sendSdpOffer(peer.localDescription);
  });
  signaling.on("sdpAnswer", (answer: RTCSessionDescriptionInit) => void peer.setRemoteDescription(answer));
  signaling.on("iceCandidate", (candidate: RTCIceCandidateInit) => void peer.addIceCandidate(candidate));
  signaling.on("error", (error: Error) => onStatus("failed", error.message));
  peer.addEventListener("icecandidate", ({ candidate }) => {
    if (candidate) signaling.sendIceCandidate(candidate);
  });
  peer.addEventListener("track", (event) => {
    if (!video.srcObject) video.srcObject = event.streams[0] ?? null;
  });
  peer.addEventListener("connectionstatechange", () => {
    if (peer.connectionState === "connected") onStatus("playing");
    else if (peer.connectionState === "disconnected") onStatus("disconnected", "the robot's video stopped; it may be offline");
    else if (peer.connectionState === "failed") onStatus("failed", "no network path to the robot's camera");
  });
  signaling.open();

  return () => {
    signaling.close();
    peer.close();
    video.srcObject = null;
  };
}
