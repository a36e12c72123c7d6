import { Module } from '@nestjs/common';
import { RealtimeFeed } from './realtime.feed';
import { RealtimeHub } from './realtime.hub';

@Module({ providers: [RealtimeFeed, RealtimeHub], exports: [RealtimeHub] })
export class RealtimeModule {}
