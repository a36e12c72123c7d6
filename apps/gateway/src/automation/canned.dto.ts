import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';

export class CreateCannedDto {
  @ApiProperty({ description: 'Typed after "/" in the composer', example: 'refund' })
  @Matches(/^[A-Za-z0-9_.-]{1,40}$/, { message: 'shortcut must be 1–40 letters, digits, _ . -' })
  shortcut!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  title!: string;

  @ApiProperty({ description: 'Placeholders: {{contact.name}}, {{agent.name}}, {{contact.attributes.<key>}}' })
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  text!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A team response (admins, the team’s managers); omitted = personal' })
  @IsOptional()
  @IsUUID()
  teamId?: string;
}

export class CannedQuery {
  @ApiPropertyOptional({ description: 'Shortcut prefix, or words of the title/text' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

export class RenderCannedDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  conversationId!: string;
}
