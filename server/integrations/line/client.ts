/**
 * The Messaging API client (bot-sdk 11) pointed at a configurable origin: api.line.me in
 * production, the local LINE sandbox in demo and tests. The SDK keeps only the origin.
 */
import { messagingApi } from '@line/bot-sdk';

export interface MessagingSettings {
	apiBase: string;
	channelAccessToken: string;
}

export function createMessagingClient(settings: MessagingSettings): messagingApi.MessagingApiClient {
	return new messagingApi.MessagingApiClient({ channelAccessToken: settings.channelAccessToken, baseURL: settings.apiBase });
}

export { HTTPFetchError } from '@line/bot-sdk';
