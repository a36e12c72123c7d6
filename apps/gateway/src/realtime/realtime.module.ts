import { Module } from '@nestjs/common';
import { AgentPresenceReporter } from './agent-presence.reporter';
import { RealtimeFeed } from './realtime.feed';
import { RealtimeHub } from './realtime.hub';

@Module({ providers: [RealtimeFeed, RealtimeHub, AgentPresenceReporter], exports: [RealtimeHub] })
export class RealtimeModule {}
