import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @IsEmail()
  @MaxLength(254)
  @ApiProperty({ format: 'email' })
  email!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  @ApiProperty({ format: 'password' })
  password!: string;
}

export class RefreshDto {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @ApiProperty()
  refreshToken!: string;
}
