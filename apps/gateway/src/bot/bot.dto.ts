import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, IsUUID, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';

export class BotHoldDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  @ApiPropertyOptional({ minimum: 1, description: 'The conversation version seen (stale → 409); If-Match works too' })
  version?: number;
}

export class BotHandoverDto extends BotHoldDto {
  @IsUUID()
  @ApiProperty({ format: 'uuid', description: 'The team that takes over: its routing strategy picks the owner (manual: it waits in the queue)' })
  teamId!: string;

  @IsString()
  @MinLength(1, { message: 'note is required for a handover: a summary for the people who take over' })
  @MaxLength(4000)
  @ApiProperty({ maxLength: 4000, description: 'Required: the summary, stored as an internal note agents see in the timeline' })
  note!: string;
}

export class TakeBackDto {
  @IsInt()
  @Min(1)
  @ApiProperty({ minimum: 1, description: 'The conversation version seen (stale → 409); If-Match works too' })
  version!: number;
}

export class NumberBotDto {
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'An API key with the bot scope; null = new conversations are routed as usual' })
  apiKeyId!: string | null;
}

export class NumberBotRef {
  @ApiProperty({ format: 'uuid', description: 'The API key (bot scope) id' }) id!: string;
  @ApiProperty({ nullable: true, type: String, description: 'The API key name' }) name!: string | null;
}

export class NumberBotResponse {
  @ApiProperty() phoneNumberId!: string;
  @ApiProperty({ type: NumberBotRef, nullable: true, description: 'null: new conversations are routed to the number’s team as usual' }) bot!: NumberBotRef | null;
}
