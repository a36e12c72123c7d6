import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** `cursor` + `limit`, the same on every cursor-paged list route (the answer is `{ items, nextCursor }`). */
export class PageQuery {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @ApiPropertyOptional({ description: 'Opaque; nextCursor of the previous page' })
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  limit?: number;
}
